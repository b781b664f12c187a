/**
 * Reads a running cluster's leases and lifecycle events from a test, over its NATS; or, for a cluster inside one
 * process (`start --threads`), waits on its status page.
 */
import type { Bus } from '../bus/bus.js';
import type { Store } from '../bus/store.js';
import { subjects } from '../bus/subjects.js';
import { decodeLifecycle, type LifecycleEvent } from '../server/lifecycle-events.js';
import { Changes, eventually } from './wait.js';
import { BUCKETS, decodeRecord, type Lease } from '../cluster/records.js';

export async function readLeases(store: Store): Promise<Map<string, Lease>> {
  const b = await store.bucket(BUCKETS.leases);
  const out = new Map<string, Lease>();
  for (const e of await b.entries()) out.set(e.key, decodeRecord<Lease>(e.value));
  return out;
}

export function ownersOf(leases: Map<string, Lease>): Map<string, number> {
  const c = new Map<string, number>();
  for (const l of leases.values()) c.set(l.o, (c.get(l.o) ?? 0) + 1);
  return c;
}

/**
 * Follows the lease bucket through one store watcher (pushed changes, no polling): `until(pred)` resolves once the
 * owners satisfy `pred`. A bench that polled `readLeases` every 50 ms spent more CPU listing the bucket (its process
 * and nats-server) than the move it was timing.
 */
export async function watchLeases(store: Store) {
  const b = await store.bucket(BUCKETS.leases);
  const leases = new Map<string, Lease>();
  const changes = new Changes();
  const w = await b.watch(
    (c) => {
      if (c.op === 'delete') leases.delete(c.key);
      else leases.set(c.key, decodeRecord<Lease>(c.value));
      changes.changed();
    },
    { initial: true },
  );
  return {
    leases,
    stop: () => w.stop(),
    /** Resolves when `pred(leases)` holds, rejects after `timeoutMs` naming `what`. */
    until(pred: (leases: Map<string, Lease>) => boolean, timeoutMs: number, what: string): Promise<void> {
      const timedOut = () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return changes.until(() => (pred(leases) ? true : undefined), timeoutMs, timedOut).then(() => undefined);
    },
  };
}

/**
 * Collects `sys.lifecycle` events from every node (actors.lifecycleEvents=true) and checks that no actor was ever live
 * on two nodes at once, ordering events by their cross-process timestamps.
 */
export function watchLifecycle(bus: Bus) {
  const events: LifecycleEvent[] = [];
  const sub = bus.subscribe(subjects.sys('lifecycle'), (m) => {
    for (const e of decodeLifecycle(m.data)) events.push(e);
  });
  return {
    events,
    stop: () => sub.unsubscribe(),
    violations(): string[] {
      const ends = (e: LifecycleEvent) => e.e === 'closed' || e.e === 'fenced';
      const sorted = [...events].sort((a, b) => a.t - b.t || (ends(a) ? -1 : ends(b) ? 1 : 0));
      const live = new Map<string, string>();
      const out: string[] = [];
      for (const ev of sorted) {
        const key = `${ev.k}/${ev.i}`;
        if (ev.e === 'adopted') continue;
        if (ev.e === 'fenced') {
          // From this moment none of the node's instances served (it closes them when it runs again).
          for (const [k, n] of live) if (n === ev.n) live.delete(k);
          continue;
        }
        if (ev.e === 'active') {
          const other = live.get(key);
          if (other !== undefined && other !== ev.n) out.push(`${key} active on ${other} and ${ev.n} at ${ev.t}`);
          live.set(key, ev.n);
        } else if (live.get(key) === ev.n) live.delete(key);
      }
      return out;
    },
  };
}

/**
 * For a cluster with no NATS to read (`gatehouse start --threads N`: one process): polls the status page its banner
 * names until `nodes` nodes are live, no shard is moving and the lease count held still between two polls.
 */
export async function statusPageSettled(banner: string, nodes: number, timeoutMs = 60_000): Promise<void> {
  const page = /status page (http:\/\/\S+?)\/?\s/.exec(banner)?.[1];
  if (!page) throw new Error('no status page in the banner');
  let last = -1;
  await eventually(
    async () => {
      const c = ((await (await fetch(`${page}/status`)).json()) as { cluster?: { leases: number; movesInFlight: number; liveNodes: string[] } }).cluster;
      const settled = c !== undefined && c.liveNodes.length === nodes && c.movesInFlight === 0 && c.leases > 0 && c.leases === last;
      last = c?.leases ?? -1;
      return settled;
    },
    { timeoutMs, intervalMs: 500, what: `${nodes} live nodes with every shard placed, settled (${page}/status)` },
  );
}
