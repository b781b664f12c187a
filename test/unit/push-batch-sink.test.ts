/**
 * Push batching in the EffectSink (issue 16): pushes wait per gateway and leave as one bus message per gateway per
 * flush, in order; replies, forwards and stop flush first; the tick, the bounds and `-1` (one message per push).
 * A recording Bus sees everything that leaves, in the order it leaves.
 */
import { describe, expect, it } from 'vitest';
import type { Bus, BusMsg, PublishOptions } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { EffectSink, MAX_BATCH_PUSHES, type GatewayPush, type PushBatching } from '../../actors/runtime/effect-sink.js';
import { encodeEnvelope, type Envelope } from '../../actors/runtime/envelope.js';

interface Sent {
  op: 'publish' | 'respond';
  subject: string;
  data: Uint8Array;
  value?: unknown;
}

/** A bus recording what leaves; 'nats' gets encoded pushes, 'memory' their values (PublishOptions.value). */
function recordingBus(kind: 'nats' | 'memory' = 'nats'): Bus & { sent: Sent[] } {
  const sent: Sent[] = [];
  const bus = {
    kind,
    prefix: 't',
    sent,
    publish: (subject: string, data: Uint8Array, o?: PublishOptions) =>
      void sent.push(o?.value === undefined ? { op: 'publish', subject, data } : { op: 'publish', subject, data, value: o.value }),
    respond: (msg: BusMsg, data: Uint8Array) => void sent.push({ op: 'respond', subject: msg.reply!, data }),
    subscribe: () => ({ subject: '', unsubscribe: () => undefined, closed: false }),
    request: () => Promise.reject(new Error('not here')),
    flush: () => Promise.resolve(),
    onStatus: () => () => undefined,
    drain: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return bus as unknown as Bus & { sent: Sent[] };
}

/** A sink on a recording bus; `turnEnd()` runs what the sink deferred to the end of the event-loop turn (tick 0). */
function rig(batching: Omit<PushBatching, 'clock' | 'defer'>, kind: 'nats' | 'memory' = 'nats') {
  const bus = recordingBus(kind);
  const clock = new ManualClock();
  let deferred: Array<() => void> = [];
  const defer = (fn: () => void) => {
    deferred.push(fn);
    return () => void (deferred = deferred.filter((f) => f !== fn));
  };
  const client = new ActorClient(bus, { shards: 4, askTimeoutMs: 1000 });
  const sink = new EffectSink(bus, client, silentLogger, { ...batching, clock, defer });
  const turnEnd = () => {
    const run = deferred;
    deferred = [];
    for (const f of run) f();
  };
  /** What each gateway received: the pushes of each bus message, a lone push as a batch of one. */
  const messages = (gw: string) =>
    bus.sent
      .filter((s) => s.subject === subjects.gateway(gw, 'push'))
      .map((s) => {
        const v = (s.value ?? decode(s.data)) as GatewayPush | GatewayPush[];
        return (Array.isArray(v) ? v : [v]).map((p) => p.b);
      });
  return { bus, clock, sink, turnEnd, messages, deferredCount: () => deferred.length };
}

const conn = (gw: string, id: string) => ({ gw, id });
const asked = (reply: string): BusMsg => ({ subject: 'room.x', data: new Uint8Array(0), reply });

describe('EffectSink push batching', () => {
  it('sends the pushes of an event-loop turn as one message per gateway, in order (tick 0)', () => {
    const { bus, sink, turnEnd, messages } = rig({ tickMs: 0 });
    sink.push([conn('g1', 'a'), conn('g2', 'b')], 'chat', 1);
    sink.push([conn('g1', 'a')], 'chat', 2);
    sink.push([conn('g2', 'b'), conn('g2', 'c')], 'chat', 3);
    sink.push([conn('g1', 'd')], 'chat', 4);
    expect(bus.sent).toEqual([]);
    expect(sink.waiting).toBe(5);
    turnEnd();
    expect(bus.sent).toHaveLength(2);
    expect(messages('g1')).toEqual([[1, 2, 4]]);
    expect(messages('g2')).toEqual([[1, 3]]);
    const g2 = decode<GatewayPush[]>(bus.sent.find((s) => s.subject === subjects.gateway('g2', 'push'))!.data);
    expect(g2).toEqual([
      { c: ['b'], r: 'chat', b: 1 },
      { c: ['b', 'c'], r: 'chat', b: 3 },
    ]);
    expect(sink.waiting).toBe(0);
  });

  it('sends a lone push as one GatewayPush object, as before batching', () => {
    const { bus, sink, turnEnd } = rig({ tickMs: 0 });
    sink.push([conn('g1', 'a')], 'chat', 'x');
    turnEnd();
    expect(decode(bus.sent[0]!.data)).toEqual({ c: ['a'], r: 'chat', b: 'x' });
  });

  it('lets no reply overtake a push emitted before it: the batch, then the reply', () => {
    const { bus, sink, turnEnd } = rig({ tickMs: 0 });
    sink.push([conn('g1', 'a')], 'chat', 1);
    sink.push([conn('g1', 'a')], 'chat', 2);
    sink.respond(asked('_INBOX.1'), { ok: true, v: 'done' });
    sink.push([conn('g1', 'a')], 'chat', 3);
    turnEnd();
    expect(bus.sent.map((s) => [s.op, s.subject])).toEqual([
      ['publish', subjects.gateway('g1', 'push')],
      ['respond', '_INBOX.1'],
      ['publish', subjects.gateway('g1', 'push')],
    ]);
    expect(decode<GatewayPush[]>(bus.sent[0]!.data).map((p) => p.b)).toEqual([1, 2]);
    expect(decode<GatewayPush>(bus.sent[2]!.data).b).toBe(3);
  });

  it('lets no forward overtake a push emitted before it', () => {
    const { bus, sink } = rig({ tickMs: 5 });
    sink.push([conn('g1', 'a')], 'chat', 1);
    const env: Envelope = { s: 'w1', q: 1, m: { type: 'say' } };
    sink.forward('room', 'r1', env, { subject: 'room.r1', data: encodeEnvelope(env) });
    expect(bus.sent.map((s) => s.op)).toEqual(['publish', 'publish']);
    expect(bus.sent[0]!.subject).toBe(subjects.gateway('g1', 'push'));
    expect(bus.sent[1]!.subject).not.toBe(subjects.gateway('g1', 'push'));
  });

  it('flushes at the tick, never later, and sets one timer per tick', () => {
    const { bus, clock, sink, messages } = rig({ tickMs: 5 });
    sink.push([conn('g1', 'a')], 'chat', 1);
    clock.advance(2);
    sink.push([conn('g1', 'a')], 'chat', 2);
    expect(clock.pending).toBe(1);
    clock.advance(2);
    expect(bus.sent).toEqual([]);
    clock.advance(1);
    expect(messages('g1')).toEqual([[1, 2]]);
    expect(clock.pending).toBe(0);
    sink.push([conn('g1', 'a')], 'chat', 3);
    clock.advance(5);
    expect(messages('g1')).toEqual([[1, 2], [3]]);
  });

  it('sends a batch early when it reaches the count bound', () => {
    const { sink, messages } = rig({ tickMs: 5 });
    for (let i = 0; i < MAX_BATCH_PUSHES + 3; i++) sink.push([conn('g1', 'a')], 'chat', i);
    const sent = messages('g1');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(MAX_BATCH_PUSHES);
    expect(sink.waiting).toBe(3);
  });

  it('sends a batch early rather than let it pass the size bound, keeping order', () => {
    const { bus, sink, turnEnd, messages } = rig({ tickMs: 0, maxBytes: 1000 });
    const body = (i: number) => `${i}`.padEnd(300, '.');
    for (let i = 0; i < 7; i++) sink.push([conn('g1', 'a')], 'chat', body(i));
    turnEnd();
    for (const s of bus.sent) expect(s.data.length).toBeLessThanOrEqual(1000);
    expect(messages('g1').flat()).toEqual([0, 1, 2, 3, 4, 5, 6].map(body));
    expect(messages('g1').map((m) => m.length)).toEqual([3, 3, 1]);
  });

  it('sends a push larger than the size bound alone, after what waited', () => {
    const { sink, turnEnd, messages } = rig({ tickMs: 0, maxBytes: 1000 });
    sink.push([conn('g1', 'a')], 'chat', 'small');
    sink.push([conn('g1', 'a')], 'chat', 'x'.repeat(2000));
    turnEnd();
    expect(messages('g1').map((m) => m.map((b) => (b as string).length))).toEqual([[5], [2000]]);
  });

  it('with -1 sends one message per push at once, as before batching', () => {
    const { bus, sink, clock, deferredCount } = rig({ tickMs: -1 });
    sink.push([conn('g1', 'a'), conn('g2', 'b')], 'chat', 1);
    sink.push([conn('g1', 'a')], 'chat', 2);
    expect(bus.sent.map((s) => decode(s.data))).toEqual([
      { c: ['a'], r: 'chat', b: 1 },
      { c: ['b'], r: 'chat', b: 1 },
      { c: ['a'], r: 'chat', b: 2 },
    ]);
    expect(clock.pending + deferredCount()).toBe(0);
  });

  it('stop flushes what waits, leaves no timer, and then sends pushes at once', () => {
    for (const tickMs of [0, 5]) {
      const { bus, clock, sink, messages, deferredCount } = rig({ tickMs });
      sink.push([conn('g1', 'a')], 'chat', 1);
      sink.push([conn('g1', 'a')], 'chat', 2);
      sink.stop();
      expect(messages('g1')).toEqual([[1, 2]]);
      expect(sink.waiting).toBe(0);
      expect(clock.pending + deferredCount()).toBe(0);
      sink.push([conn('g1', 'a')], 'chat', 3);
      expect(messages('g1')).toEqual([[1, 2], [3]]);
      expect(bus.sent).toHaveLength(2);
      expect(clock.pending + deferredCount()).toBe(0);
    }
  });
});

describe('EffectSink in-process pushes (memory bus)', () => {
  it('hands the gateway the pushes as values, batched per gateway and in order, nothing encoded', () => {
    const { bus, sink, turnEnd, messages } = rig({ tickMs: 0 }, 'memory');
    sink.push([conn('g1', 'a'), conn('g2', 'b')], 'chat', { n: 1 });
    sink.push([conn('g1', 'a'), conn('g1', 'c')], 'chat', { n: 2 });
    sink.push([conn('g2', 'b')], 'chat', { n: 3 });
    expect(sink.waiting).toBe(4);
    turnEnd();
    expect(bus.sent.every((s) => s.data.length === 0 && s.value !== undefined)).toBe(true);
    expect(bus.sent.find((s) => s.subject === subjects.gateway('g1', 'push'))!.value).toEqual([
      { c: ['a'], r: 'chat', b: { n: 1 } },
      { c: ['a', 'c'], r: 'chat', b: { n: 2 } },
    ]);
    expect(messages('g2')).toEqual([[{ n: 1 }, { n: 3 }]]);
    expect(sink.waiting).toBe(0);
  });

  it('copies on send: the actor changing its body afterwards changes nothing the gateway gets', () => {
    const { bus, sink } = rig({ tickMs: -1 }, 'memory');
    const body = { users: ['ann'] };
    const to = [conn('g1', 'a')];
    sink.push(to, 'list', body);
    body.users.push('bob');
    to[0]!.id = 'z';
    expect(bus.sent[0]!.value).toEqual({ c: ['a'], r: 'list', b: { users: ['ann'] } });
  });

  it('hands over what the codec would deliver for a body that is not plain data', () => {
    const { bus, sink } = rig({ tickMs: -1 }, 'memory');
    const at = new Date(5);
    sink.push([conn('g1', 'a')], 'when', { at });
    expect(bus.sent[0]!.value).toEqual(decode(encode({ c: ['a'], r: 'when', b: { at } })));
  });

  it('lets no reply overtake a push emitted before it, and bounds a batch by count', () => {
    const { bus, sink, turnEnd, messages } = rig({ tickMs: 0 }, 'memory');
    sink.push([conn('g1', 'a')], 'chat', 1);
    sink.respond(asked('_INBOX.1'), { ok: true, v: 'done' });
    expect(bus.sent.map((s) => s.op)).toEqual(['publish', 'respond']);
    for (let i = 0; i < MAX_BATCH_PUSHES + 2; i++) sink.push([conn('g1', 'a')], 'chat', i);
    turnEnd();
    expect(messages('g1').map((m) => m.length)).toEqual([1, MAX_BATCH_PUSHES, 2]);
  });
});
