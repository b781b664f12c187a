/**
 * The lobby end to end over real sockets with the cluster in several processes: one nats-server, three worker
 * processes and two gateway processes (`gatehouse node`), bots (lobby/bot.ts) and scripted hunters on the client SDK
 * spread over both gateways. Shows bots logging in and spreading over the servers, chatting and relaying; a scripted
 * party making a city and a quest circle and departing (the unready one removed); then a worker killed with SIGKILL:
 * afterwards every player record is intact (place, friends, profile) and the counts in the list views match where
 * the players really are, while relays flow again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import type { Store } from '../../bus/store.js';
import { LobbyBot } from '../../lobby/bot.js';
import { K } from '../../lobby/tree.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../../dev/procs.js';
import { ownersOf, readLeases } from '../../dev/cluster-watch.js';
import { eventually } from '../../dev/wait.js';

const PREFIX = 'lobby-e2e';
const SHARDS = 16; // what fastClusterFlags() sets
const BOTS = 24;
// Every node: occupied layers re-report and audit each second (the default is 15 s), so healing is quick to see.
const LOBBY_FLAGS = ['--set', 'lobby.refreshMs=1000'];
const GATEWAY_FLAGS = [
  ...['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]),
  '--set', 'gateway.sessionGraceMs=5000',
  ...LOBBY_FLAGS,
];

type Rec = Record<string, unknown>;

interface Hunter {
  c: GatehouseClient;
  id: string;
  got: Array<{ route: string; body: Rec }>;
  of(route: string): Rec[];
  call<T = Rec>(route: string, body?: unknown): Promise<T>;
}

describe('lobby across processes', () => {
  let nats: NatsServerHandle;
  const workers: Proc[] = [];
  const gwProcs: Proc[] = [];
  const gateways: string[] = [];
  const clients: GatehouseClient[] = [];
  const bots: LobbyBot[] = [];
  let bus: Awaited<ReturnType<typeof createNatsBus>>;
  let store: Store;

  beforeAll(async () => {
    nats = await startNatsServer();
    const natsUrl = nats.url;
    const [w1, w2, w3, g1, g2] = await Promise.all([
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'w1', roles: 'worker', extra: LOBBY_FLAGS }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'w2', roles: 'worker', extra: LOBBY_FLAGS }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'w3', roles: 'worker', extra: LOBBY_FLAGS }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'g1', roles: 'gateway', extra: GATEWAY_FLAGS }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'g2', roles: 'gateway', extra: GATEWAY_FLAGS }),
    ]);
    workers.push(w1!, w2!, w3!);
    gwProcs.push(g1!, g2!);
    for (const gw of gwProcs) gateways.push(/(ws:\/\/\S+)/.exec(await gw.waitFor(/native ws\s+ws:\/\//))![1]!);
    bus = await createNatsBus({ prefix: PREFIX, servers: [natsUrl] });
    store = createNatsStore({ connection: bus.connection, prefix: PREFIX });
    // Wait for a settled cluster: every lobby shard owned, all three workers with a share, and no shard moved for
    // three seconds (the balancer's first rounds are over), so the test measures the lobby, not the start-up.
    const lobbyKinds = Object.values(K);
    let last = '';
    let since = Date.now();
    await eventually(
      async () => {
        const leases = await readLeases(store);
        const owned = lobbyKinds.every((k) => Array.from({ length: SHARDS }, (_, s) => leases.get(`${k}.${s}`)).every((l) => l?.st === 'owned'));
        const owners = ownersOf(leases);
        const map = JSON.stringify([...leases].map(([k, l]) => `${k}=${l.o}/${l.st}`).sort());
        if (map !== last) [last, since] = [map, Date.now()];
        return owned && ['w1', 'w2', 'w3'].every((w) => (owners.get(w) ?? 0) > 0) && Date.now() - since >= 3000;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'every lobby shard owned, spread over w1, w2, w3, and no moves for 3 s' },
    );
  }, 150_000);
  afterAll(async () => {
    if (process.env.LOBBY_E2E_LOGS) for (const p of [...workers, ...gwProcs]) process.stderr.write(`---- ${p.pid}\n${p.output()}\n`);
    await Promise.all(bots.map((b) => b.stop().catch(() => undefined)));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all([...workers, ...gwProcs].map((p) => p.kill('SIGKILL')));
    await bus?.close().catch(() => undefined);
    await nats?.stop();
  });

  async function hunter(n: number, gateway: number, hr = 60): Promise<Hunter> {
    const c = await connect({ url: gateways[gateway % gateways.length]!, requestTimeoutMs: 15_000 });
    clients.push(c);
    const got: Hunter['got'] = [];
    c.on('*', (body, route) => got.push({ route, body: body as Rec }));
    const id = `E2E${String(n).padStart(3, '0')}`;
    await c.request('lobby.login', { capcomId: id, name: `Scripted${n}`, hr });
    return { c, id, got, of: (r) => got.filter((g) => g.route === r).map((g) => g.body), call: (r, b) => c.request(r, b) };
  }

  const until = (what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 20_000) => eventually(fn, { timeoutMs, intervalMs: 50, what });

  it('bots log in, spread over the servers, chat and relay; a party makes a city and a circle and departs', async () => {
    for (let i = 1; i <= BOTS; i++) {
      const c = await connect({ url: gateways[i % 2]!, requestTimeoutMs: 15_000 });
      clients.push(c);
      const bot = new LobbyBot(c, { index: i, idPrefix: 'E', relayHz: 2, wanderMs: 6000, chatMs: 2000, gates: 2 });
      bots.push(bot);
      await bot.start();
    }
    await until('every bot has been in a city', () => bots.every((b) => b.stats.cityJoins > 0), 40_000);
    expect(new Set(bots.map((b) => b.stats.loc[0])).size).toBeGreaterThanOrEqual(6);
    await until('bots chat and hear relays', () => bots.some((b) => b.stats.chats > 0) && bots.reduce((n, b) => n + b.stats.relaysReceived, 0) > 0);

    // A scripted party on both gateways: a city, a circle, one not ready; the leader departs.
    const lead = await hunter(1, 0);
    const mate = await hunter(2, 1);
    const slow = await hunter(3, 1);
    await lead.call('lobby.enter', { layer: 's10-g39' });
    await lead.call('lobby.city.reserve', { city: 's10-g39-c40' });
    await lead.call('lobby.city.open', { settings: { goal: 'Alatreon', seeking: 'party' } });
    for (const h of [mate, slow]) await h.call('lobby.enter', { layer: 's10-g39-c40' });
    await until('the leader hears both arrive', () => lead.of('lobby.onJoin').length === 2);
    await mate.call('lobby.chat', { text: 'ready when you are' });
    await until('everyone in the city hears it', () => [lead, mate, slow].every((h) => h.of('lobby.onChat').length === 1));
    const { circle } = await lead.call<{ circle: string }>('lobby.circle.create', { password: 'hunt' });
    await mate.call('lobby.circle.join', { circle, password: 'hunt' });
    await slow.call('lobby.circle.join', { circle, password: 'hunt' });
    await mate.call('lobby.circle.ready', { ready: true });
    const departed = await lead.call<{ state: string; members: Rec[] }>('lobby.circle.depart');
    expect(departed.state).toBe('departed');
    expect(departed.members.map((m) => m.id)).toEqual([lead.id, mate.id]);
    await until('the unready one is removed with a push', () => slow.of('lobby.onCircleRemoved').length === 1);
    expect(slow.of('lobby.onCircleRemoved')[0]).toEqual({ circle, reason: 'not ready' });
    // Friends and a profile piece, checked again after the crash below.
    await lead.call('lobby.friends.request', { to: mate.id });
    await mate.call('lobby.friends.accept', { from: lead.id });
    await lead.call('lobby.profile.write', { offset: 100, bytes: new Uint8Array([1, 2, 3]) });
    const found = await slow.call<{ hits: Rec[] }>('lobby.search.players', { q: 'scripted' });
    expect(found.hits.map((h) => h.id)).toEqual([lead.id, mate.id, slow.id]);
    expect(found.hits[0]!.loc).toEqual(['s10', 's10-g39', 's10-g39-c40']);
  }, 120_000);

  it('a worker is killed: player records are intact afterwards and the counts are correct again', async () => {
    await Promise.all(bots.map((b) => b.settle()));
    const mover = await hunter(4, 0);
    const lead = await hunter(5, 1);
    // Everyone's place as the clients know it: what the records and the counts must agree with after the crash.
    const lastRelays = bots.reduce((n, b) => n + b.stats.relaysReceived, 0);

    // A hunter keeps moving between two cities while the worker dies (some moves fail: its shard has no owner for a
    // moment); the others stay put and keep relaying.
    await mover.call('lobby.enter', { layer: 's01-g38' });
    await mover.call('lobby.city.reserve', { city: 's01-g38-c01' });
    await mover.call('lobby.city.open', { settings: {} });
    await lead.call('lobby.enter', { layer: 's01-g38' });
    await lead.call('lobby.city.reserve', { city: 's01-g38-c02' });
    await lead.call('lobby.city.open', { settings: {} });
    let stop = false;
    let moves = 0;
    const failures: string[] = [];
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        await mover.call('lobby.enter', { layer: `s01-g38-c0${1 + (i % 2)}` }).then(
          () => moves++,
          (e: { code?: string }) => failures.push(e.code ?? 'ERROR'),
        );
        await new Promise((r) => setTimeout(r, 100)); // load pacing: the hunter moves ~10 times a second, not a wait
      }
    })();
    await until('the mover got going', () => moves >= 5);
    const killed = workers[1]!;
    await killed.kill('SIGKILL');
    await until('the dead worker’s shards are owned again', async () => {
      const leases = await readLeases(store);
      return [...leases.values()].every((l) => l.o !== 'w2' && l.st === 'owned');
    }, 30_000);
    await until('moves succeed again', () => moves >= 30, 30_000);
    stop = true;
    await churn;
    const final = await mover.call<{ loc: string[] }>('lobby.enter', { layer: 's01-g38-c02' });
    expect(final.loc).toEqual(['s01', 's01-g38', 's01-g38-c02']);

    // Records: every player stands where its client thinks; the scripted party kept friends and profile.
    const players: Array<{ id: string; loc: string[]; c: GatehouseClient }> = [
      ...bots.map((b, i) => ({ id: b.id, loc: b.stats.loc, c: clients[i]! })),
      { id: mover.id, loc: final.loc, c: mover.c },
      { id: lead.id, loc: ['s01', 's01-g38', 's01-g38-c02'], c: lead.c },
    ];
    for (const p of players) {
      const me = await p.c.request<Rec>('lobby.whoami');
      expect({ id: me.id, loc: (me.loc as string[]).join('/'), online: me.online }).toEqual({ id: p.id, loc: p.loc.join('/'), online: true });
    }
    const party = clients.slice(BOTS, BOTS + 3);
    const leadRec = await party[0]!.request<{ friends: Array<{ id: string }> }>('lobby.whoami');
    expect(leadRec.friends.map((f) => f.id)).toEqual(['E2E002']);
    const profile = await party[0]!.request<{ profile: Uint8Array }>('lobby.profile.get');
    expect([...profile.profile.slice(100, 103)]).toEqual([1, 2, 3]);

    // Counts: servers, gates and cities list exactly the players standing in them.
    const where = (depth: number) => {
      const m = new Map<string, number>();
      for (const p of players) if (p.loc[depth]) m.set(p.loc[depth]!, (m.get(p.loc[depth]!) ?? 0) + 1);
      // The party of the first test is still in its city (3 players).
      for (const id of ['s10', 's10-g39', 's10-g39-c40'].slice(depth, depth + 1)) m.set(id, (m.get(id) ?? 0) + 3);
      return m;
    };
    const ask = mover.c;
    await until('server counts match', async () => {
      const servers = (await ask.request<{ items: Array<{ id: string; n: number }> }>('lobby.servers')).items;
      const want = where(0);
      return servers.every((s) => s.n === (want.get(s.id) ?? 0));
    });
    const gates = where(1);
    const cities = where(2);
    await until('gate and city counts match', async () => {
      for (const server of new Set([...gates.keys()].map((g) => g.slice(0, 3)))) {
        const list = (await ask.request<{ gates: { items: Array<{ id: string; n: number }> } }>('lobby.gates', { server })).gates.items;
        if (!list.every((g) => g.n === (gates.get(g.id) ?? 0))) return false;
      }
      for (const gate of gates.keys()) {
        const list = (await ask.request<{ cities: { items: Array<{ id: string; n: number }> } }>('lobby.cities', { gate, limit: 100 })).cities.items;
        if (!list.every((c) => c.n === (cities.get(c.id) ?? 0))) return false;
      }
      return true;
    }, 30_000);
    await until('relays flow again', () => bots.reduce((n, b) => n + b.stats.relaysReceived, 0) > lastRelays + 50);
  }, 150_000);
});
