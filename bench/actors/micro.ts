/**
 * Targeted micro-measurement behind bench actors: the CPU an ask costs on each side, ours vs raw, with nats.js I/O
 * replaced by a connection that only captures callbacks (the nats.js parser's MsgImpl is still built per message).
 * `node dist/bench/actors/micro.js [actors]` after a build; CPU ns per request, median of rounds. MICRO=<section>
 * runs one section (to profile it with --cpu-prof).
 *
 *   responder  raw: unpack → XState send → pack → respond, vs ours: NatsBus callback → ActorHost → cell → XState →
 *              reply encode → respond. Both include the sender-side pack of the message.
 *   requester  64 in flight (MICRO_INFLIGHT), replies delivered synchronously: the raw floor (Map + promise) vs ActorClient.ask
 *              (envelope, subject, RequestMux, reply decode).
 */
import type { Msg, NatsConnection } from 'nats';
import { MsgImpl } from 'nats/lib/nats-base-client/internal_mod.js';
import type { AnyActor } from 'xstate';
import { ActorClient } from '../../actors/runtime/client.js';
import { encodeEnvelope, encodeReply } from '../../actors/runtime/envelope.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { NatsBus } from '../../bus/nats/nats-bus.js';
import { shardOf } from '../../bus/subjects.js';
import { silentLogger } from '../../common/logger.js';
import { stats } from '../harness/measure.js';
import { createRawFloor } from '../raw-request-floor.js';
import { EVENT, KIND, PREFIX, actorId, bareActor, benchKind, nodeConfig, rawPackr, rawUnpackr } from './common.js';

const ACTORS = Number(process.argv[2] ?? 10_000);
const N = 100_000;
const ROUNDS = 7;
const INFLIGHT = Number(process.env.MICRO_INFLIGHT ?? 64);
/** MICRO=<section>[:<variant prefix>] runs one section (or one variant of it) alone, e.g. to profile it. */
const [only, onlyVariant] = (process.env.MICRO ?? '').split(':');
const te = new TextEncoder();
const config = nodeConfig({ kind: 'memory' });
const SHARDS = config.actors.shards;
type Callback = (err: unknown, m: Msg) => void;

/** A connection that does no I/O: publishes are captured (or dropped), subscription callbacks kept by subject. */
function fakeConnection(capture = false) {
  const subs = new Map<string, Callback>();
  const published: Array<{ subject: string; reply?: string }> = [];
  const conn = {
    publish: (subject: string, _d: Uint8Array, o?: { reply?: string }) => void (capture && published.push({ subject, reply: o?.reply })),
    subscribe: (s: string, o: { callback: Callback }) => {
      subs.set(s, o.callback);
      return { isClosed: () => false, unsubscribe() {} };
    },
    flush: () => Promise.resolve(),
    closed: () => new Promise(() => {}),
    status: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) }),
    isClosed: () => false,
  };
  return { conn: conn as unknown as NatsConnection, subs, published };
}

const publisher = { publish() {} };
/** What nats.js's parser hands to a subscription for `MSG <subject> <sid> [reply] <size>`. */
const incoming = (subject: Uint8Array, reply: Uint8Array | undefined, data: Uint8Array) =>
  new MsgImpl({ subject, reply, sid: 1, size: data.length, hdr: -1 } as never, data, publisher as never) as unknown as Msg;

async function compare(title: string, variants: Record<string, () => Promise<void> | void>): Promise<void> {
  if (only && !title.startsWith(only)) return;
  if (onlyVariant) variants = Object.fromEntries(Object.entries(variants).filter(([k]) => k.startsWith(onlyVariant)));
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, run] of Object.entries(variants)) {
      const t = process.cpuUsage();
      await run();
      const d = process.cpuUsage(t);
      runs[k]!.push(((d.user + d.system) * 1000) / N);
    }
  }
  console.log(`\n${title} (CPU ns/request, median of ${ROUNDS - 1} rounds of ${N / 1000} k after one warm-up; ${ACTORS} actors)`);
  for (const [k, xs] of Object.entries(runs)) {
    const s = stats(xs.slice(1));
    console.log(`  ${k.padEnd(52)} ${s.median.toFixed(0).padStart(6)}   (${s.min.toFixed(0)}–${s.max.toFixed(0)})`);
  }
}

// responder --------------------------------------------------------------------------------------------------------
const replyBytes = te.encode(`${PREFIX}._INBOX.abcdefghijkl.1a`);
const rawActors = new Map<string, AnyActor>();
const rawSubjects = Array.from({ length: ACTORS }, (_, i) => te.encode(`rawq.actor.${actorId(i)}`));
const rawCallback = (_e: unknown, m: Msg) => {
  const id = m.subject.slice(11);
  let a = rawActors.get(id);
  if (!a) rawActors.set(id, (a = bareActor()));
  a.send(rawUnpackr.unpack(m.data));
  m.respond(rawPackr.pack({ ok: true, v: (a.getSnapshot() as { context: { count: number } }).context.count }));
};

const node = fakeConnection();
const host = new ActorHost({ nodeId: 'micro', bus: new NatsBus(node.conn, PREFIX, silentLogger), kinds: [benchKind], limits: { ...config.actors }, ownAllShards: true });
await host.start();
const ids = Array.from({ length: ACTORS }, (_, i) => actorId(i));
const oursSubjects = ids.map((id) => te.encode(`${PREFIX}.${KIND}.${shardOf(id, SHARDS)}.${id}`));
const shardCallbacks = ids.map((id) => node.subs.get(`${PREFIX}.${KIND}.${shardOf(id, SHARDS)}.*`)!);
let seq = 0;

await compare('responder', {
  'raw: unpack → send → pack → respond': () => {
    for (let i = 0; i < N; i++) rawCallback(null, incoming(rawSubjects[i % ACTORS]!, replyBytes, rawPackr.pack(EVENT)));
  },
  'ours: NatsBus → host → cell → XState → reply': () => {
    for (let i = 0; i < N; i++) {
      const k = i % ACTORS;
      shardCallbacks[k]!(null, incoming(oursSubjects[k]!, replyBytes, encodeEnvelope({ m: EVENT, s: 'abcdefghijkl', q: ++seq })));
    }
  },
});

// requester --------------------------------------------------------------------------------------------------------
const replyData = encodeReply({ ok: true, v: 1 });
const rawReplyData = rawPackr.pack({ ok: true, v: 1 });
const fl = fakeConnection(true);
const floor = createRawFloor(fl.conn, 'rawq._INBOX');
const floorSub = [...fl.subs.values()][0]!;
const req = fakeConnection(true);
const client = new ActorClient(new NatsBus(req.conn, PREFIX, silentLogger), { shards: SHARDS, askTimeoutMs: 5000 });
const addrs = ids.map((id) => ({ kind: KIND, id }));

/** N requests, INFLIGHT at a time: issue a batch, answer every captured publish, await the batch. */
async function batches(issue: (i: number) => Promise<unknown>, c: ReturnType<typeof fakeConnection>, data: Uint8Array, cb: () => Callback) {
  for (let i = 0; i < N; i += INFLIGHT) {
    const ps: Promise<unknown>[] = [];
    for (let k = 0; k < INFLIGHT; k++) ps.push(issue(i + k));
    const sent = c.published.splice(0);
    for (const s of sent) cb()(null, incoming(te.encode(s.reply!), undefined, data));
    await Promise.all(ps);
  }
}

await compare(`requester, ${INFLIGHT} in flight`, {
  'floor: Map + promise (+ pack)': () => batches((i) => floor.request(`rawq.actor.${ids[i % ACTORS]}`, rawPackr.pack(EVENT)), fl, rawReplyData, () => floorSub),
  'ours: ActorClient.ask': () => batches((i) => client.ask(addrs[i % ACTORS]!, EVENT), req, replyData, () => [...req.subs.values()][0]!),
});
console.log(`\n(processed ${host.metrics.processed}, raw actors ${rawActors.size})`);
process.exit(0);
