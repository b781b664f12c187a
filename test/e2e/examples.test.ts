/**
 * The SDK as a package: the examples in examples/ run as a user runs them (`node examples/….mjs <url>`, importing
 * `gatehouse/client/node` through the package's `exports`) against an embedded node on free ports (in-memory bus and
 * store); a project outside the repository that depends on gatehouse imports the SDK and type-checks against its
 * typed route maps; and those hand-written maps (client/chat-api.ts, client/lobby-api.ts) name exactly the routes
 * and pushes the server has.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp, ChatPush } from '../../chat/index.js';
import { chatRoutes } from '../../chat/routes.js';
import { lobbyApp, LOBBY_DEFAULTS, LobbyPush } from '../../lobby/index.js';
import { lobbyRoutes } from '../../lobby/routes.js';
import { CHAT_ROUTES, type ChatPushes } from '../../client/chat-api.js';
import { LOBBY_PUSHES, LOBBY_ROUTES, lobbyClient, type LobbyPushes } from '../../client/lobby-api.js';
import { connect } from '../../client/node.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { ROOT } from '../../dev/procs.js';

const run = promisify(execFile);

/** True when dist/client/*.d.ts are missing or older than a .ts file of client/, protocol/ or common/. */
function declarationsStale(): boolean {
  const newest = (dir: string, ext: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) t = Math.max(t, newest(p, ext));
      else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
    }
    return t;
  };
  const dts = join(ROOT, 'dist', 'client');
  if (!existsSync(join(dts, 'node.d.ts')) || !existsSync(join(dts, 'lobby-api.d.ts'))) return true;
  const built = Math.min(...readdirSync(dts).filter((f) => f.endsWith('.d.ts')).map((f) => statSync(join(dts, f)).mtimeMs));
  return ['client', 'protocol', 'common'].some((d) => newest(join(ROOT, d), '.ts') > built);
}
// Bounded: a hung example is killed (and the test fails) instead of holding the suite.
const node = (args: string[], cwd = ROOT) => run(process.execPath, args, { cwd, timeout: 30_000, env: { ...process.env, GATEHOUSE_TOKEN: '' } });

describe('SDK package and examples', () => {
  let gw: GatewayNode;
  let consumer: string | undefined;

  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [chatApp, lobbyApp], embedded: createEmbedded() });
  });
  afterAll(async () => {
    await gw?.stop();
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it('the typed maps list exactly the routes and pushes the server has', () => {
    expect([...LOBBY_ROUTES].sort()).toEqual(Object.keys(lobbyRoutes(LOBBY_DEFAULTS)).sort());
    expect([...LOBBY_PUSHES].sort()).toEqual(Object.values(LobbyPush).sort());
    expect([...CHAT_ROUTES].sort()).toEqual(Object.keys(chatRoutes).sort());
    const chatPushes: Record<keyof ChatPushes, true> = { onChat: true, onAdd: true, onLeave: true };
    expect(Object.keys(chatPushes).sort()).toEqual(Object.values(ChatPush).sort());
  });

  it('the lobby answers as client/lobby-api.ts and docs/LOBBY.md say (typed client, in process)', async () => {
    const gh = [await connect({ url: gw.wsUrl }), await connect({ url: gw.wsUrl })];
    try {
      const [a, b] = gh.map((c) => lobbyClient(c)) as [ReturnType<typeof lobbyClient>, ReturnType<typeof lobbyClient>];
      const heard: Array<LobbyPushes['lobby.onCircleRemoved']> = [];
      b.on('lobby.onCircleRemoved', (p) => heard.push(p));
      const me = await a.request('lobby.login', { capcomId: 'DOCS01', name: 'Docs', hr: 40 });
      expect(me).toMatchObject({ id: 'DOCS01', loc: [], circle: null, friends: [], pending: [], sent: [] });
      await b.request('lobby.login', { capcomId: 'DOCS02', name: 'Mate', hr: 40 });
      // Reserving needs the city's gate; then the city opens and its creator leads it.
      await expect(a.request('lobby.city.reserve', { city: 's02-g03-c04' })).rejects.toMatchObject({ code: 'NOT_IN_LAYER' });
      await a.request('lobby.enter', { layer: 's02-g03' });
      await a.request('lobby.city.reserve', { city: 's02-g03-c04' });
      const open = await a.request('lobby.city.open', { settings: { goal: 'Qurupeco' } });
      expect(open.view).toMatchObject({ level: 'city', leaderId: 'DOCS01', settings: { goal: 'Qurupeco', hrMin: 1, hrMax: 999 } });
      // One move from the top straight into a city.
      const moved = await b.request('lobby.enter', { layer: 's02-g03-c04' });
      expect(moved.loc).toEqual(['s02', 's02-g03', 's02-g03-c04']);
      // Departing takes the ready members; the others are put out with reason 'not ready'.
      const q = await a.request('lobby.circle.create', { password: 'pw' });
      await expect(b.request('lobby.circle.join', { circle: q.circle, password: 'nope' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
      await b.request('lobby.circle.join', { circle: q.circle, password: 'pw' });
      expect((await a.request('lobby.circles'))[0]).toMatchObject({ id: q.circle, locked: true, n: 2, leader: 'Docs' });
      await expect(b.request('lobby.circle.depart')).rejects.toMatchObject({ code: 'NOT_LEADER' });
      const gone = await a.request('lobby.circle.depart');
      expect(gone.members.map((m) => m.id)).toEqual(['DOCS01']);
      await expect.poll(() => heard).toEqual([{ circle: q.circle, reason: 'not ready' }]);
      // Up from a server is the top: loc [] and no view.
      for (let i = 0; i < 3; i++) await b.request('lobby.leave');
      expect(await b.request('lobby.whoami')).toMatchObject({ loc: [] });
      await b.request('lobby.enter', { layer: 's01' });
      expect(await b.request('lobby.leave')).toEqual({ loc: [], view: null });
    } finally {
      await Promise.all(gh.map((c) => c.close()));
    }
  });

  it('examples/chat-client.mjs enters a room, hears itself and leaves', async () => {
    const { stdout } = await node(['examples/chat-client.mjs', gw.wsUrl, 'ann', 'tavern']);
    expect(stdout).toContain('entered tavern as ann: 1 member(s): ann');
    expect(stdout).toContain('heard ann: hello from ann');
    expect(stdout).toContain('left');
  });

  it('examples/lobby-client.mjs browses, opens a city, chats and departs on a quest', async () => {
    const { stdout } = await node(['examples/lobby-client.mjs', gw.wsUrl, 'EXMPL1', 'Example']);
    expect(stdout).toContain('logged in as Example (EXMPL1)');
    expect(stdout).toMatch(/now in s01 > s01-g\d\d > s01-g\d\d-c\d\d/);
    expect(stdout).toMatch(/\] Example: hunting party forming!/);
    expect(stdout).toMatch(/departed on Great Jaggi with 1 hunter/);
    expect(stdout).toContain('logged out');
  });

  it('a project outside the repository imports gatehouse/client/node and type-checks against the typed maps', async () => {
    consumer = mkdtempSync(join(tmpdir(), 'gatehouse-consumer-'));
    // What `npm install <path to gatehouse>` makes of a local directory: a link under node_modules (offline).
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(ROOT, join(consumer, 'node_modules', 'gatehouse'), 'dir');
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    const app = [
      "import { connect, lobbyClient, chatClient, SDK_VERSION } from 'gatehouse/client/node';",
      'const gh = await connect({ url: process.argv[2] });',
      "const servers = await lobbyClient(gh).request('lobby.servers', {});",
      "const chat = await chatClient(gh).request('chat.enter', { name: 'zed', room: 'outside' });",
      'console.log(`${SDK_VERSION} servers=${servers.total} first=${servers.items[0].id} users=${chat.users.join()}`);',
      'await gh.close();',
    ].join('\n');
    writeFileSync(join(consumer, 'app.mjs'), app);
    const { stdout } = await node(['app.mjs', gw.wsUrl], consumer);
    expect(stdout.trim()).toBe(`sdk-ts/0.1.0 servers=${LOBBY_DEFAULTS.servers.length} first=s01 users=zed`);

    // The same code as TypeScript, checked by tsc through the package's "types": answers are typed, and a wrong
    // body is an error (@ts-expect-error fails the check if it is not).
    writeFileSync(
      join(consumer, 'app.ts'),
      [
        app.replace('process.argv[2]', "'ws://127.0.0.1:1'"),
        'const lobby = lobbyClient(gh);',
        "const n: number = (await lobby.request('lobby.whoami')).hr;",
        "lobby.on('lobby.onChat', (m) => console.log(m.name.toUpperCase(), m.text, n));",
        "// @ts-expect-error hr must be a number",
        "await lobby.request('lobby.login', { capcomId: 'AB12CD', name: 'x', hr: '40' });",
        "// @ts-expect-error no such route",
        "await lobby.request('lobby.nosuch', {});",
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['app.ts'] }),
    );
    // The declarations come from client/tsconfig.sdk.json, rebuilt when a source of the SDK is newer than them.
    if (declarationsStale()) await node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'client', 'tsconfig.sdk.json')]);
    const tsc = await node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer).catch((e: { stdout: string }) => e);
    expect(tsc.stdout).toBe('');
  }, 90_000);
});
