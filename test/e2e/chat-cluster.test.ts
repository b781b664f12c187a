/**
 * Chat end to end over real sockets with the cluster in several processes: one nats-server, two gateway processes and
 * two worker processes (`gatehouse node`), SDK clients on both gateways. Shows enter, chat to everyone and to one,
 * member lists, switching rooms on an open connection, leaving, a duplicate name refused, cleanup after a dropped
 * connection, and a room whose shard is moved (`gatehouse move`, twice) in the middle of a conversation losing no
 * message and keeping their order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { shardOf, subjects } from '../../bus/subjects.js';
import type { Store } from '../../bus/store.js';
import type { GatewayPush } from '../../actors/runtime/host.js';
import { decode } from '../../bus/codec.js';
import { ROOM_KIND } from '../../chat/room.js';
import { roomChannel } from '../../chat/line-channels.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { fastClusterFlags, runCli, startNodeProcess, type Proc } from '../../dev/procs.js';
import { ownersOf, readLeases } from '../../dev/cluster-watch.js';
import { eventually } from '../../dev/wait.js';

const PREFIX = 'chat-e2e';
const SHARDS = 16; // what fastClusterFlags() sets
const GATEWAY_FLAGS = [
  ...['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]),
  // A dropped client's session (and seat) ends one second after the drop instead of the default grace period.
  '--set', 'gateway.sessionGraceMs=1000',
  // The migration test sends faster than the default per-connection rate limit.
  '--set', 'gateway.requestsPerSecond=2000',
  '--set', 'gateway.requestBurst=2000',
];

interface Chat {
  c: GatehouseClient;
  got: Array<{ route: string; body: Record<string, unknown> }>;
  of(route: string): Array<Record<string, unknown>>;
}

describe('chat across processes', () => {
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  const gateways: string[] = [];
  const clients: GatehouseClient[] = [];
  let bus: Awaited<ReturnType<typeof createNatsBus>>;
  let store: Store;

  beforeAll(async () => {
    nats = await startNatsServer();
    const natsUrl = nats.url;
    const started = await Promise.all([
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'w1', roles: 'worker' }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'w2', roles: 'worker' }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'g1', roles: 'gateway', extra: GATEWAY_FLAGS }),
      startNodeProcess({ natsUrl, prefix: PREFIX, id: 'g2', roles: 'gateway', extra: GATEWAY_FLAGS }),
    ]);
    procs.push(...started);
    for (const gw of started.slice(2)) {
      const line = await gw.waitFor(/native ws\s+ws:\/\//);
      gateways.push(/(ws:\/\/\S+)/.exec(line)![1]!);
    }
    bus = await createNatsBus({ prefix: PREFIX, servers: [natsUrl] });
    store = createNatsStore({ connection: bus.connection, prefix: PREFIX });
    await eventually(
      async () => {
        const leases = await readLeases(store);
        const rooms = Array.from({ length: SHARDS }, (_, s) => leases.get(`${ROOM_KIND}.${s}`));
        const owners = ownersOf(leases);
        return rooms.every((l) => l?.st === 'owned') && (owners.get('w1') ?? 0) > 0 && (owners.get('w2') ?? 0) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'every room shard owned, shards spread over w1 and w2' },
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await bus?.close().catch(() => undefined);
    await nats?.stop();
  });

  async function client(gateway: 0 | 1, o: { reconnect?: boolean } = {}): Promise<Chat> {
    const c = await connect({ url: gateways[gateway]!, requestTimeoutMs: 10_000, ...o });
    clients.push(c);
    const got: Chat['got'] = [];
    c.on('*', (body, route) => got.push({ route, body: body as Record<string, unknown> }));
    return { c, got, of: (route) => got.filter((g) => g.route === route).map((g) => g.body) };
  }

  const until = (what: string, fn: () => boolean) => eventually(fn, { timeoutMs: 10_000, what });

  it('enter, talk to everyone and to one, list, switch and leave, with members on two gateways', async () => {
    const ann = await client(0);
    const ben = await client(1);
    const cat = await client(1);
    expect(await ann.c.request('chat.enter', { name: 'ann', room: 'plaza' })).toEqual({ users: ['ann'], count: 1 });
    expect(await ben.c.request('chat.enter', { name: 'ben', room: 'plaza' })).toEqual({ users: ['ann', 'ben'], count: 2 });
    expect(await cat.c.request('chat.enter', { name: 'cat', room: 'plaza' })).toEqual({ users: ['ann', 'ben', 'cat'], count: 3 });
    await until('ann hears ben and cat arrive', () => ann.of('onAdd').length === 2);
    expect(ann.of('onAdd')).toEqual([{ user: 'ben' }, { user: 'cat' }]);

    // Watch the bus: a line to everyone leaves ann's gateway once, on the room's gateway channel (chat.lineFanout),
    // and no worker pushes it; ben and cat's gateway pushes it to both of them.
    const onBus: Array<{ subject: string; conns: number }> = [];
    const onChannel: string[] = [];
    const channelTap = bus.subscribe('fan.>', (m) => {
      const v = decode<{ r: string; b: { msg?: string } }>(m.data);
      if (v.b?.msg === 'hello plaza') onChannel.push(m.subject);
    });
    // Every gateway's push inbox (subjects.gateway(node, 'push')), as a wildcard: subjects.ts has no helper for it.
    const tap = bus.subscribe('gw.*.push', (m) => {
      // A message holds one push, or several in order (a batch: actors.pushTickMs).
      const v = decode<GatewayPush | GatewayPush[]>(m.data);
      for (const p of Array.isArray(v) ? v : [v]) {
        if ((p.b as { msg?: string }).msg === 'hello plaza') onBus.push({ subject: m.subject, conns: p.c.length });
      }
    });
    await bus.flush();
    await ann.c.request('chat.send', { content: 'hello plaza', target: '*' });
    const hello = { msg: 'hello plaza', from: 'ann', target: '*' };
    await until('everyone hears ann', () => [ann, ben, cat].every((x) => x.of('onChat').length === 1));
    for (const x of [ann, ben, cat]) expect(x.of('onChat')).toEqual([hello]);
    tap.unsubscribe();
    channelTap.unsubscribe();
    expect(onChannel).toEqual([subjects.channel(roomChannel('plaza'))]);
    expect(onBus).toEqual([]);

    await cat.c.request('chat.send', { content: 'just you', target: 'ann' });
    await until('ann hears cat privately', () => ann.of('onChat').length === 2);
    expect(ann.of('onChat')[1]).toEqual({ msg: 'just you', from: 'cat', target: 'ann' });
    await expect(cat.c.request('chat.send', { content: 'x', target: 'nobody' })).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
    expect(await ben.c.request('chat.members')).toEqual({ room: 'plaza', name: 'ben', users: ['ann', 'ben', 'cat'], count: 3 });

    // ben moves to another room on the same connection: plaza hears him leave, he hears plaza no more.
    expect(await ben.c.request('chat.switch', { room: 'garden' })).toEqual({ users: ['ben'], count: 1 });
    await until('plaza hears ben leave', () => ann.of('onLeave').length === 1 && cat.of('onLeave').length === 1);
    expect(ann.of('onLeave')).toEqual([{ user: 'ben' }]);
    await ann.c.request('chat.send', { content: 'ben is gone', target: '*' });
    await until('cat hears it', () => cat.of('onChat').length === 2);
    expect(await ann.c.request('chat.switch', { room: 'garden' })).toEqual({ users: ['ben', 'ann'], count: 2 });
    await until('ben hears ann arrive in garden', () => ben.of('onAdd').some((a) => a.user === 'ann'));
    expect(ben.of('onAdd')).toEqual([{ user: 'cat' }, { user: 'ann' }]);
    await ann.c.request('chat.send', { content: 'found you', target: '*' });
    await until('ben hears ann in garden', () => ben.of('onChat').some((m) => m.msg === 'found you'));
    expect(ben.of('onChat').map((m) => m.msg)).toEqual(['hello plaza', 'found you']);

    expect(await ann.c.request('chat.leave')).toEqual({ left: true });
    await until('garden hears ann leave', () => ben.of('onLeave').length === 1);
    expect(ben.of('onLeave')).toEqual([{ user: 'ann' }]);
  });

  it('refuses a name already in the room, on either gateway', async () => {
    const a = await client(0);
    const b = await client(1);
    await a.c.request('chat.enter', { name: 'hunter', room: 'guild' });
    await expect(b.c.request('chat.enter', { name: 'hunter', room: 'guild' })).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    expect(await b.c.request('chat.enter', { name: 'hunter2', room: 'guild' })).toEqual({ users: ['hunter', 'hunter2'], count: 2 });
  });

  it('cleans up after clients that go: a goodbye at once, a dropped connection after the grace period', async () => {
    const stay = await client(0);
    const polite = await client(1);
    const dropped = await client(1, { reconnect: false });
    await stay.c.request('chat.enter', { name: 'stay', room: 'porch' });
    await polite.c.request('chat.enter', { name: 'polite', room: 'porch' });
    await dropped.c.request('chat.enter', { name: 'dropped', room: 'porch' });
    await polite.c.close();
    await until('porch hears polite leave', () => stay.of('onLeave').length === 1);
    dropped.c.drop();
    await until('porch hears dropped leave', () => stay.of('onLeave').length === 2);
    expect(stay.of('onLeave')).toEqual([{ user: 'polite' }, { user: 'dropped' }]);
    expect(await stay.c.request('chat.members')).toEqual({ room: 'porch', name: 'stay', users: ['stay'], count: 1 });
    // The names are free again.
    const back = await client(0);
    expect(await back.c.request('chat.enter', { name: 'dropped', room: 'porch' })).toEqual({ users: ['stay', 'dropped'], count: 2 });
  });

  it('loses no message and keeps their order while the room shard moves between workers', async () => {
    const room = 'migrating';
    const shard = shardOf(room, SHARDS);
    const key = `${ROOM_KIND}.${shard}`; // lease key
    const speaker = await client(0);
    const listeners = [await client(0), await client(1)];
    await speaker.c.request('chat.enter', { name: 'speaker', room });
    for (const [i, l] of listeners.entries()) await l.c.request('chat.enter', { name: `listener${i}`, room });

    const ownerNow = async () => (await readLeases(store)).get(key)?.o;
    const first = await ownerNow();
    expect(['w1', 'w2']).toContain(first);
    const other = first === 'w1' ? 'w2' : 'w1';

    // The speaker keeps talking (up to 10 requests in flight) from before the first move until after the second, to
    // each listener in turn by name: private lines go through the room actor (lines to everyone go out on the room's
    // gateway channel, chat.lineFanout, and never meet the move).
    let sent = 0;
    let stop = false;
    const failures: unknown[] = [];
    const talk = (async () => {
      const inFlight = new Set<Promise<unknown>>();
      for (; !stop; sent++) {
        const p = speaker.c.request('chat.send', { content: `m${sent}`, target: `listener${sent % 2}` }).catch((e: unknown) => failures.push(e));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= 10) await Promise.race(inFlight);
        if (sent % 10 === 0) await new Promise((r) => setTimeout(r, 5)); // load pacing: ~2 000 lines/s at most, not a wait
      }
      await Promise.all(inFlight);
    })();
    const move = async (to: string) => {
      const p = runCli(['move', `${ROOM_KIND}:${shard}`, '--to', to, '--nats', nats.url, '--prefix', PREFIX, ...fastClusterFlags(SHARDS), '--timeout', '30']);
      expect(await p.exited, p.output()).toBe(0);
      expect(await ownerNow()).toBe(to);
    };
    // The speaker made progress: n more lines sent (a bounded wait for a count, failing with what went wrong).
    const saidMore = async (n: number) => {
      const from = sent;
      await eventually(() => sent >= from + n, { timeoutMs: 40_000, intervalMs: 10, what: `${n} more lines sent` }).catch((e: Error) => {
        throw new Error(`${e.message}: only ${sent - from}; failures: ${failures.slice(0, 3).map(String).join('; ')}`);
      });
    };
    await saidMore(100);
    await move(other);
    await saidMore(100);
    await move(first!);
    await saidMore(100);
    stop = true;
    await talk;
    expect(failures).toEqual([]);
    const total = sent;

    for (const [j, x] of listeners.entries()) {
      const expected = Array.from({ length: total }, (_, i) => `m${i}`).filter((_, i) => i % 2 === j);
      await eventually(() => x.of('onChat').length >= expected.length, { timeoutMs: 15_000, what: `${expected.length} messages to listener${j}` });
      expect(x.of('onChat').map((m) => m.msg)).toEqual(expected);
    }
    expect(speaker.of('onChat')).toEqual([]);
    // The members came along with the room: nobody was dropped or duplicated by the moves.
    expect(await speaker.c.request('chat.members')).toEqual({ room, name: 'speaker', users: ['speaker', 'listener0', 'listener1'], count: 3 });
  }, 120_000); // two moves plus 300+ messages; shared CI machines can be slow
});
