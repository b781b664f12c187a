/**
 * The SDK as a package: the examples in examples/ run as a user runs them (`node examples/….mjs <url>`, importing
 * `gatehouse/client/node` through the package's `exports`) against an embedded node on free ports (in-memory bus and
 * store); a project outside the repository that depends on gatehouse imports the SDK and type-checks against its
 * typed route maps; and those hand-written maps (client/chat-api.ts, client/lobby-api.ts) name exactly the routes
 * and pushes the server has.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp, ChatPush } from '../../chat/index.js';
import { chatRoutes } from '../../chat/routes.js';
import { lobbyApp, LOBBY_DEFAULTS, LobbyPush } from '../../lobby/index.js';
import { lobbyRoutes } from '../../lobby/routes.js';
import { CHAT_ROUTES, type ChatPushes } from '../../client/chat-api.js';
import { LOBBY_PUSHES, LOBBY_ROUTES } from '../../client/lobby-api.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { ROOT } from '../../dev/procs.js';

const run = promisify(execFile);
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
    // The declarations come from client/tsconfig.sdk.json (the package build's second step).
    await node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'client', 'tsconfig.sdk.json')]);
    const tsc = await node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer).catch((e: { stdout: string }) => e);
    expect(tsc.stdout).toBe('');
  }, 90_000);
});
