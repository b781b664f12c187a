/** Reads a running cluster's leases and lifecycle events from a test, over its NATS. */
import type { Bus } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import type { Store } from '../../bus/store.js';
import { subjects } from '../../bus/subjects.js';
import { BUCKETS, decodeRecord, type Lease } from '../../cluster/records.js';

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
 * Collects `sys.lifecycle` events from every node (actors.lifecycleEvents=true) and checks that no actor was ever live
 * on two nodes at once, ordering events by their cross-process timestamps.
 */
export function watchLifecycle(bus: Bus) {
  const events: Array<{ e: 'active' | 'closed' | 'adopted'; k: string; i: string; n: string; t: number }> = [];
  // Nodes send the events of one event-loop turn as one array (server/node.ts).
  const sub = bus.subscribe(subjects.sys('lifecycle'), (m) => events.push(...decode<(typeof events)[number][]>(m.data)));
  return {
    events,
    stop: () => sub.unsubscribe(),
    violations(): string[] {
      const sorted = [...events].sort((a, b) => a.t - b.t || (a.e === 'closed' ? -1 : 1));
      const live = new Map<string, string>();
      const out: string[] = [];
      for (const ev of sorted) {
        const key = `${ev.k}/${ev.i}`;
        if (ev.e === 'adopted') continue;
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
