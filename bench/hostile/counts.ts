/**
 * bench hostile, server side: what the attackers make the node do, counted rather than timed (the shared host makes
 * latency ratios noise): store operations by bucket and by the first token of the key (the actor kind in the
 * snapshot bucket), and actor instances started and closed by kind (the runtime's lifecycle hook). Read and reset per
 * phase by the benchmark.
 */
import type { LifecycleHook } from '../../actors/runtime/cell-context.js';
import { MemoryKvServer } from '../../bus/memory-store.js';
import type { KvBucket, Store } from '../../bus/store.js';

export type Counts = Record<string, number>;

const counts: Counts = {};
const bump = (k: string) => {
  counts[k] = (counts[k] ?? 0) + 1;
  const t = k.replace(/ actors-\d+\//, ' ');
  totals[t] = (totals[t] ?? 0) + 1;
};
const kindOf = (key: string) => key.split('.')[0] ?? key;

/** Every operation a bucket handle does, counted as `store.<op> <bucket>/<kind>`, then passed on. */
function counted(b: KvBucket): KvBucket {
  const at = (op: string, key: string) => bump(`store.${op} ${b.name}/${kindOf(key)}`);
  return {
    name: b.name,
    get: (k) => (at('get', k), b.get(k)),
    put: (k, v) => (at('put', k), b.put(k, v)),
    create: (k, v) => (at('create', k), b.create(k, v)),
    update: (k, v, e) => (at('update', k), b.update(k, v, e)),
    delete: (k, e) => (at('delete', k), b.delete(k, e)),
    keys: (p) => b.keys(p),
    entries: (p) => b.entries(p),
    lastRevision: () => b.lastRevision(),
    watch: (fn, o) => b.watch(fn, o),
  };
}

/** The embedded store server, its handles' buckets counted. */
export class CountingKvServer extends MemoryKvServer {
  override store(prefix: string): Store {
    const s = super.store(prefix);
    return { kind: s.kind, bucket: async (name, o) => counted(await s.bucket(name, o)), close: () => s.close() };
  }
}

/** Instances started (`active`) and closed, by kind. */
export const lifecycleCounter: LifecycleHook = (event, kind) => bump(`${event} ${kind}`);

/** Running totals (never reset), summed over shards: store operations by op and kind, instances by event and kind. */
const totals: Counts = {};
/** The running totals, for deltas over a stretch of the event loop. */
export const peekCounts = (): Counts => ({ ...totals });

/** The counts since the last call, and a fresh start. */
export function takeCounts(): Counts {
  const out = { ...counts };
  for (const k of Object.keys(counts)) delete counts[k];
  return out;
}
