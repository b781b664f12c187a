/**
 * Gateway channels (gateway/channels.ts), the transport of the lobby's fanned-out relays, on the in-memory bus with
 * stand-in connections: a gateway subscribes only while it has members; the publisher pushes to its own members at
 * once, publishes at the end of the event-loop turn (a turn's publishes together, in order) and skips its own
 * message when the bus echoes it (exactly one delivery each); the member left out gets
 * nothing; with a tick they wait at most the tick, and at most OUTBOX_BYTES wait; a dropped connection leaves every
 * channel; a message that does not decode is dropped and counted.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { createChannels, OUTBOX_BYTES } from '../../gateway/channels.js';
import { RelayChannels } from '../../lobby/relay-channels.js';

/** `defer`: how publishes wait (default: for turnEnds below; a tick test passes the clock's timer, as gateway.ts does). */
function gateway(broker: MemoryBroker, node: string, defer?: (fn: () => void) => void) {
  const bus = broker.connect({ prefix: 'ch' });
  const got = new Map<string, Array<{ route: string; body: unknown }>>();
  const conns = new Set<string>();
  const deferred: Array<() => void> = [];
  const channels = createChannels({
    node,
    bus,
    log: silentLogger,
    defer: defer ?? ((fn) => deferred.push(fn)),
    connection: (id) =>
      conns.has(id)
        ? { handler: { push: (route: string, body: unknown) => (got.get(id) ?? got.set(id, []).get(id)!).push({ route, body }) }, kick: () => undefined }
        : undefined,
  });
  /** The event-loop turn ends: what was published in it leaves. */
  const turnEnds = () => deferred.splice(0).forEach((fn) => fn());
  return { bus, channels, got, turnEnds, open: (id: string) => conns.add(id), of: (id: string) => got.get(id) ?? [] };
}

describe('gateway channels', () => {
  it('deliver once to every member but the one left out, locally at once and remotely over the bus', async () => {
    const broker = new MemoryBroker();
    const [a, b] = [gateway(broker, 'ga'), gateway(broker, 'gb')];
    for (const [g, conn, member] of [[a, 'c1', 'P1'], [a, 'c2', 'P2'], [b, 'c3', 'P3']] as const) {
      g.open(conn);
      g.channels.join('lobby-s01', conn, member);
    }
    b.open('c4');
    b.channels.join('lobby-s02', 'c4', 'P4');
    expect([a.channels.subscribed, b.channels.subscribed]).toEqual([1, 2]);
    await broker.flush();
    a.channels.publish('lobby-s01', 'lobby.onRelay', { f: 'P1', d: 1 }, 'P1');
    expect(a.of('c2')).toEqual([{ route: 'lobby.onRelay', body: { f: 'P1', d: 1 } }]); // before the bus delivered anything
    await broker.flush();
    expect(b.of('c3')).toEqual([]); // the publish waits for the end of the turn
    a.turnEnds();
    await broker.flush();
    expect(a.of('c1')).toEqual([]);
    expect(a.of('c2')).toHaveLength(1); // its own echo skipped
    expect(b.of('c3')).toEqual([{ route: 'lobby.onRelay', body: { f: 'P1', d: 1 } }]);
    expect(b.of('c4')).toEqual([]);
    expect(a.channels.counts).toMatchObject({ published: 1, received: 0, pushed: 1 });
    expect(b.channels.counts).toMatchObject({ received: 1, pushed: 1 });
  });

  it("leave at the end of the event-loop turn, all of a turn's publishes together and in order", async () => {
    const broker = new MemoryBroker();
    const [a, b] = [gateway(broker, 'ga'), gateway(broker, 'gb')];
    const tap = broker.connect({ prefix: 'ch' });
    let messages = 0;
    tap.subscribe('fan.>', () => messages++);
    b.open('c3');
    b.channels.join('lobby-s01', 'c3', 'P3');
    b.channels.join('lobby-s02', 'c3', 'P3');
    await broker.flush();
    for (let i = 0; i < 5; i++) a.channels.publish(i % 2 ? 'lobby-s01' : 'lobby-s02', 'r', i);
    await broker.flush();
    expect(messages).toBe(0);
    a.turnEnds();
    await broker.flush();
    expect(messages).toBe(5);
    expect(b.of('c3').map((p) => p.body)).toEqual([0, 1, 2, 3, 4]);
    a.channels.publish('lobby-s01', 'r', 5);
    a.channels.stop(); // what waits leaves before the channels stop
    await broker.flush();
    expect(b.of('c3').map((p) => p.body)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('with a tick (gateway.channelTickMs): wait at most the tick from the first one held, then leave together in order', async () => {
    const broker = new MemoryBroker();
    const clock = new ManualClock();
    const a = gateway(broker, 'ga', (fn) => void clock.setTimeout(fn, 20));
    const b = gateway(broker, 'gb');
    const tap = broker.connect({ prefix: 'ch' });
    let messages = 0;
    tap.subscribe('fan.>', () => messages++);
    b.open('c3');
    b.channels.join('lobby-s01', 'c3', 'P3');
    await broker.flush();
    for (let i = 0; i < 3; i++) {
      a.channels.publish('lobby-s01', 'r', i);
      clock.advance(5);
    }
    await broker.flush();
    expect(messages).toBe(0);
    clock.advance(5); // 20 ms after the first
    await broker.flush();
    expect(messages).toBe(3);
    a.channels.publish('lobby-s01', 'r', 3); // the next tick starts with the next message held
    clock.advance(19);
    await broker.flush();
    expect(messages).toBe(3);
    clock.advance(1);
    await broker.flush();
    expect(b.of('c3').map((p) => p.body)).toEqual([0, 1, 2, 3]);
  });

  it(`hold at most OUTBOX_BYTES (${OUTBOX_BYTES}): past that what waits leaves at once, before the tick`, async () => {
    const broker = new MemoryBroker();
    const clock = new ManualClock();
    const a = gateway(broker, 'ga', (fn) => void clock.setTimeout(fn, 1000));
    const tap = broker.connect({ prefix: 'ch' });
    const sizes: number[] = [];
    tap.subscribe('fan.>', (m) => sizes.push(m.data.length));
    await broker.flush();
    const body = new Uint8Array(10_000);
    const n = Math.ceil(OUTBOX_BYTES / body.length);
    for (let i = 0; i < n - 1; i++) a.channels.publish('lobby-s01', 'r', body);
    await broker.flush();
    expect(sizes).toHaveLength(0);
    a.channels.publish('lobby-s01', 'r', body);
    await broker.flush();
    expect(sizes).toHaveLength(n);
    a.channels.publish('lobby-s01', 'r', body); // held again, and the pending tick sends it
    clock.advance(1000);
    await broker.flush();
    expect(sizes).toHaveLength(n + 1);
    expect(a.channels.counts.published).toBe(n + 1);
  });

  it('subscribe while a connection is joined: leave and dropConn unsubscribe the last one', async () => {
    const broker = new MemoryBroker();
    const a = gateway(broker, 'ga');
    const tap = broker.connect({ prefix: 'ch' });
    a.channels.join('lobby-s01', 'c1', 'P1');
    a.channels.join('lobby-s01', 'c2', 'P2');
    a.channels.join('lobby-s02', 'c2', 'P2');
    a.channels.leave('lobby-s01', 'c1');
    expect(a.channels.subscribed).toBe(2);
    expect([a.channels.has('lobby-s01', 'c1'), a.channels.has('lobby-s01', 'c2'), a.channels.has('lobby-s02', 'c2')]).toEqual([false, true, true]);
    a.channels.dropConn('c2');
    expect(a.channels.subscribed).toBe(0);
    expect([a.channels.has('lobby-s01', 'c2'), a.channels.has('lobby-s02', 'c2')]).toEqual([false, false]);
    a.open('c2');
    tap.publish(subjects.channel('lobby-s01'), encode({ o: 'gx', r: 'lobby.onRelay', b: { d: 1 } }));
    await broker.flush();
    expect(a.of('c2')).toEqual([]);
  });

  it('drop and count a message that does not decode, and deliver the next', async () => {
    const broker = new MemoryBroker();
    const a = gateway(broker, 'ga');
    const tap = broker.connect({ prefix: 'ch' });
    a.open('c1');
    a.channels.join('lobby-s01', 'c1', 'P1');
    await broker.flush();
    tap.publish(subjects.channel('lobby-s01'), new Uint8Array([0xc1]));
    tap.publish(subjects.channel('lobby-s01'), encode({ o: 'gx', b: 1 }));
    tap.publish(subjects.channel('lobby-s01'), encode({ o: 'gx', r: 'lobby.onRelay', b: { d: 2 } }));
    await broker.flush();
    expect(a.channels.counts.malformed).toBe(2);
    expect(a.of('c1')).toEqual([{ route: 'lobby.onRelay', body: { d: 2 } }]);
  });

  it("a lobby session's channel follows its location and connection (RelayChannels)", async () => {
    const broker = new MemoryBroker();
    const a = gateway(broker, 'ga');
    const relays = new RelayChannels(a.channels);
    relays.place('s1', 'c1', 'P1', ['s01', 's01-g01']);
    relays.place('s1', 'c1', 'P1', ['s01', 's01-g01']);
    expect(a.channels.subscribed).toBe(1);
    relays.place('s1', 'c1', 'P1', ['s01', 's01-g02']);
    expect(a.channels.subscribed).toBe(1);
    a.open('c9');
    relays.place('s1', 'c9', 'P1', ['s01', 's01-g02']); // resumed on a new connection
    relays.relay('s01-g02', 'lobby.onRelay', 'P2', 'hi');
    expect(a.of('c9')).toEqual([{ route: 'lobby.onRelay', body: { f: 'P2', d: 'hi' } }]);
    relays.place('s1', 'c9', 'P1', []);
    expect([a.channels.subscribed, relays.size]).toEqual([0, 0]);
    relays.place('s2', 'c2', 'P2', ['s02']);
    relays.forget('s2');
    expect(a.channels.subscribed).toBe(0);
  });

  it('RelayChannels full: sessions whose connection closed (gone on to another gateway) are swept out, never a live one', () => {
    const broker = new MemoryBroker();
    const a = gateway(broker, 'ga');
    const relays = new RelayChannels(a.channels, 2);
    relays.place('s1', 'c1', 'P1', ['s01']);
    relays.place('s2', 'c2', 'P2', ['s02']);
    a.channels.dropConn('c1'); // its connection closed; the session went on elsewhere and never ends here
    relays.place('s3', 'c3', 'P3', ['s03']);
    expect(relays.size).toBe(2);
    // s2 is still known: moving it leaves its old layer's channel (a forgotten one would stay joined there).
    relays.place('s2', 'c2', 'P2', ['s04']);
    expect([a.channels.has('lobby-s02', 'c2'), a.channels.has('lobby-s04', 'c2')]).toEqual([false, true]);
  });
});
