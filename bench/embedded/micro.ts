/**
 * Targeted micro-measurement behind bench embedded: where an embedded tell's time goes, stage by stage, in one
 * process, synchronously (the broker's setImmediate drain is called by hand), so the figures are not drowned in
 * scheduling noise (CPU time, not wall time). `node dist/bench/embedded/micro.js [actors]` after a build. ns per event, median of rounds.
 *
 *   xstate   bare send; the same with what a cell attaches (emit listener, error observer, clock); a cell's step
 *   codec    envelope encode / decode
 *   bus      MemoryBroker publish → route → deliver to a wildcard subscriber that does nothing
 *   full     ActorClient.tell → MemoryBroker → ActorHost → cell → XState (what bench embedded measures)
 */
import { createActor, type AnyActor, type EventObject } from 'xstate';
import { ActorClient } from '../../actors/runtime/client.js';
import { decodeEnvelope, encodeEnvelope } from '../../actors/runtime/envelope.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { tuneV8ForTurns } from '../../actors/runtime/v8-tuning.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { systemClock } from '../../common/clock.js';
import { stats } from '../harness/measure.js';
import { EVENT, KIND, PREFIX, actorId, benchKind, benchMachine, nodeConfig } from '../actors/common.js';

const ACTORS = Number(process.argv[2] ?? 1);
// What a node's ActorHost does when it is constructed, before any traffic (actors/runtime/v8-tuning.ts). Here the
// host is built only for the last section, after the bus section's queued batches have grown the new space: set
// later, V8 keeps the XState sites it tenured meanwhile and 'full' measured ~1.2 µs more than it alone (MICRO=full).
// Bare XState never gets a site tenured, with or without it.
tuneV8ForTurns();
const N = 200_000;
const ROUNDS = 7;
const BATCH = 4096;

/** CPU ns per op (process.cpuUsage, GC threads included): on a loaded host, wall time would count preemption. */
function time(op: (i: number) => void, batchEnd?: () => void): number {
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    op(i);
    if (batchEnd && i % BATCH === BATCH - 1) batchEnd();
  }
  batchEnd?.();
  const d = process.cpuUsage(t);
  return ((d.user + d.system) * 1000) / N;
}

/** MICRO=<section name> runs one section alone (e.g. to profile it with --cpu-prof). */
/** MICRO=<section>[:<variant prefix>] runs one section (or one variant of it) alone, e.g. to profile it. */
const [only, onlyVariant] = (process.env.MICRO ?? '').split(':');

function compare(title: string, variants: Record<string, [(i: number) => void, (() => void)?]>): void {
  if (only && !title.startsWith(only)) return;
  if (onlyVariant) variants = Object.fromEntries(Object.entries(variants).filter(([k]) => k.startsWith(onlyVariant)));
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, [op, end]] of Object.entries(variants)) runs[k]!.push(time(op, end));
  console.log(`\n${title} (CPU ns/event, median of ${ROUNDS - 1} rounds of ${N / 1000} k after one warm-up; ${ACTORS} actors)`);
  for (const [k, xs] of Object.entries(runs)) {
    const s = stats(xs.slice(1));
    console.log(`  ${k.padEnd(44)} ${s.median.toFixed(0).padStart(6)}   (${s.min.toFixed(0)}–${s.max.toFixed(0)})`);
  }
}

// xstate -----------------------------------------------------------------------------------------------------------
const bare: AnyActor[] = Array.from({ length: ACTORS }, () => createActor(benchMachine).start());
const noop = () => undefined;
const dressed: AnyActor[] = Array.from({ length: ACTORS }, () => {
  const a = createActor(benchMachine, { clock: systemClock });
  a.on('*', noop);
  a.subscribe({ error: noop });
  return a.start();
});
const cellStep = (a: AnyActor, e: EventObject) => {
  const prev = a.getSnapshot();
  a.send(e);
  return a.getSnapshot() !== prev;
};
compare('xstate', {
  'bare send (the baseline)': [(i) => bare[i % ACTORS]!.send(EVENT)],
  'send with emit listener + error observer': [(i) => dressed[i % ACTORS]!.send(EVENT)],
  '+ getSnapshot before and after (cell.step)': [(i) => void cellStep(dressed[i % ACTORS]!, EVENT)],
});

// codec ------------------------------------------------------------------------------------------------------------
const bytes = encodeEnvelope({ m: EVENT, s: 'abcdefghijkl', q: 1 });
let sink = 0;
compare('codec', {
  'encodeEnvelope {m, s, q}': [(i) => void (sink += encodeEnvelope({ m: EVENT, s: 'abcdefghijkl', q: i }).length)],
  'decodeEnvelope': [() => void (sink += decodeEnvelope(bytes).q!)],
});

// bus --------------------------------------------------------------------------------------------------------------
const drainOf = (b: MemoryBroker) => (b as unknown as { drain: () => void }).drain;
// No time bound on a delivery turn: the drain is called by hand here and must deliver the whole batch.
const broker = new MemoryBroker({ drainBudgetMs: Infinity });
const pub = broker.connect({ prefix: PREFIX });
const sub = broker.connect({ prefix: PREFIX });
sub.subscribe(`${KIND}.3.*`, (m) => void (sink += m.data.length));
const subj = Array.from({ length: ACTORS }, (_, i) => `${KIND}.3.${actorId(i)}`);
compare('memory bus', {
  'publish → route → deliver (no-op handler)': [(i) => pub.publish(subj[i % ACTORS]!, bytes), drainOf(broker)],
});

// full -------------------------------------------------------------------------------------------------------------
const hostBroker = new MemoryBroker({ drainBudgetMs: Infinity });
const config = nodeConfig({ kind: 'memory' });
const host = new ActorHost({
  nodeId: 'micro',
  bus: hostBroker.connect({ prefix: PREFIX }),
  kinds: [benchKind],
  limits: { ...config.actors },
  ownAllShards: true,
});
await host.start();
const client = new ActorClient(hostBroker.connect({ prefix: PREFIX }), { shards: config.actors.shards, askTimeoutMs: 5000 });
const addrs = Array.from({ length: ACTORS }, (_, i) => ({ kind: KIND, id: actorId(i) }));
compare('full embedded tell', {
  'client.tell → broker → host → cell → XState': [(i) => client.tell(addrs[i % ACTORS]!, EVENT), drainOf(hostBroker)],
});
console.log(`\n(processed ${host.metrics.processed}, sink ${sink > 0})`);
await host.stop();
process.exit(0);
