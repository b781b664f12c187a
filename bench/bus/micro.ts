/**
 * Targeted micro-measurement behind bench bus: the CPU our NatsBus adds per message, in one process, with no socket and
 * no server, so the figure is not drowned in scheduling noise. `node dist/bench/bus/micro.js` (after a build).
 *
 *   deliver  nats.js hands a fresh MsgImpl to the subscription callback: raw callback vs NatsBus's subscribe wrapper
 *            (fromNats: decodes subject and reply with TextDecoder, copies headers) vs a lazy-getter message (a
 *            sketch of a possible fix, defined here, not in bus/).
 *   publish  bus.publish → connection.publish with a no-op connection: only our additions (assertSubject, prefix).
 *   request  RequestMux.open + reply (timer, promise, Map) vs the same without a per-request timer.
 */
import type { Msg, NatsConnection } from 'nats';
import { MsgImpl } from 'nats/lib/nats-base-client/internal_mod.js';
import { NatsBus } from '../../bus/nats/nats-bus.js';
import { RequestMux } from '../../bus/request-mux.js';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { silentLogger } from '../../common/logger.js';
import { stats } from '../harness/measure.js';

const N = 2_000_000;
const ROUNDS = 7;
const te = new TextEncoder();
const td = new TextDecoder();

/** A connection that does nothing: isolates our code from nats.js I/O. Captures subscription callbacks. */
function fakeConnection() {
  let cb: ((err: unknown, m: Msg) => void) | undefined;
  let sink = 0;
  const conn = {
    publish: (s: string, d: Uint8Array) => void (sink += s.length + d.length),
    subscribe: (_s: string, o: { callback: (err: unknown, m: Msg) => void }) => {
      cb = o.callback;
      return { isClosed: () => false, unsubscribe() {} };
    },
    closed: () => new Promise(() => {}),
    status: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) }),
    isClosed: () => false,
    // What the bus checks before it queues a publish (nats-bus.ts queueable): without them every publish took the
    // path that skips the queue, and the micro measured that path instead of the product's.
    info: { max_payload: 1024 * 1024 },
    isDraining: () => false,
  };
  return { conn: conn as unknown as NatsConnection, callback: () => cb!, sink: () => sink };
}

/** ns per operation of `op(i)` over N iterations. */
function time(op: (i: number) => void): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) op(i);
  return Number(process.hrtime.bigint() - t) / N;
}

function compare(title: string, variants: Record<string, (i: number) => void>): void {
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, op] of Object.entries(variants)) runs[k]!.push(time(op));
  console.log(`\n${title} (ns/op, median of ${ROUNDS} × ${N / 1e6} M; first round is warm-up too)`);
  for (const [k, xs] of Object.entries(runs)) {
    const s = stats(xs.slice(1));
    console.log(`  ${k.padEnd(34)} ${s.median.toFixed(0).padStart(5)}   (${s.min.toFixed(0)}–${s.max.toFixed(0)})`);
  }
}

// deliver ----------------------------------------------------------------------------------------------------------
const data = new Uint8Array(64);
/** What nats.js's parser hands to MsgImpl for `MSG <subject> 1 [reply] 64`. */
const arg = (subject: string, reply?: string) => ({
  subject: te.encode(subject),
  reply: reply ? te.encode(reply) : undefined,
  sid: 1,
  size: 64,
  hdr: -1,
});
const rawArg = arg('rawb.tp.s64');
const oursArg = arg('ours.tp.s64');
const oursReqArg = arg('ours.rq', 'ours._INBOX.abcdefghijkl.1a');
let bytes = 0;
const handler = (m: BusMsg) => void (bytes += m.data.length);
const newMsg = (a: object) => new MsgImpl(a as never, data, {} as never) as unknown as Msg;

const fc = fakeConnection();
const bus = new NatsBus(fc.conn, 'ours', silentLogger);
bus.subscribe('tp.s64', handler);
const oursCb = fc.callback();
const fcReq = fakeConnection();
new NatsBus(fcReq.conn, 'ours', silentLogger).subscribe('rq', handler);
const oursReqCb = fcReq.callback();

/** The sketch: subject known from a non-wildcard subscription, reply and headers decoded only when read. */
class LazyBusMsg implements BusMsg {
  constructor(
    private readonly m: Msg,
    readonly subject: string,
  ) {}
  get data() {
    return this.m.data;
  }
  get reply() {
    const r = (this.m as unknown as { _msg: { reply?: Uint8Array } })._msg.reply;
    return r ? td.decode(r).slice(5) : undefined;
  }
  get headers() {
    return undefined;
  }
}
const lazyCb = (_e: unknown, m: Msg) => {
  try {
    handler(new LazyBusMsg(m, 'tp.s64'));
  } catch {
    /* as the bus does */
  }
};

compare('deliver: nats.js MsgImpl → handler', {
  'raw callback (reads data)': () => ((_e: unknown, m: Msg) => void (bytes += m.data.length))(null, newMsg(rawArg)),
  'NatsBus subscribe (fromNats)': () => oursCb(null, newMsg(oursArg)),
  'NatsBus, request with reply': () => oursReqCb(null, newMsg(oursReqArg)),
  'lazy BusMsg sketch': () => lazyCb(null, newMsg(oursArg)),
});

// publish ----------------------------------------------------------------------------------------------------------
const pc = fakeConnection();
const pbus = new NatsBus(pc.conn, 'ours', silentLogger);
compare('publish: our additions over connection.publish', {
  'connection.publish (no-op)': () => pc.conn.publish('ours.tp.s64', data),
  'bus.publish': () => pbus.publish('tp.s64', data),
  'bus.publish with reply option': () => pbus.publish('tp.s64', data, { reply: 'x.y' }),
});

// request ----------------------------------------------------------------------------------------------------------
const mux = new RequestMux({ subscribe: () => ({ unsubscribe() {} }) } as unknown as Bus, silentLogger);
const muxReply = (mux as unknown as { onReply: (m: BusMsg) => void }).onReply;
const pending = new Map<string, (m: BusMsg) => void>();
let next = 0;
compare('request bookkeeping: open + settle, no I/O', {
  'floor: Map + promise': () => {
    const token = (next++).toString(36);
    const reply = `rawb._INBOX.abcdefghijkl.${token}`;
    void new Promise<BusMsg>((r) => pending.set(token, r));
    const t = reply.slice(25);
    const res = pending.get(t)!;
    pending.delete(t);
    res({ subject: reply, data });
  },
  'RequestMux (setTimeout per request)': () => {
    const { reply } = mux.open('rq', 5000);
    muxReply({ subject: reply, data });
  },
});
console.log(`\n(sinks: ${bytes + fc.sink() + pc.sink() > 0})`);
process.exit(0);
