/**
 * The chaos run's oracles, pure: per-actor sequence logs against what each sender had acknowledged, and the lifecycle
 * feed against "never two live instances".
 */
import type { LifecycleEvent } from '../../server/lifecycle-events.js';

export interface SeqCounts {
  /** Acknowledged (sender, n) found in the log exactly once. */
  kept: number;
  /** Acknowledged (sender, n) missing from the log. */
  lost: number;
  /** Log entries beyond the first for the same (sender, n). */
  duplicated: number;
  /** Log entries whose n is not above the previous n of the same sender. */
  outOfOrder: number;
  /** (sender, n) answered NOT_OWNER yet found in the log: NOT_OWNER must mean "not applied". */
  notOwnerApplied: number;
  /** A few readable problems, for the report. */
  samples: string[];
}

export function emptyCounts(): SeqCounts {
  return { kept: 0, lost: 0, duplicated: 0, outOfOrder: 0, notOwnerApplied: 0, samples: [] };
}

/**
 * Checks one actor's log. `acked` and `notOwner` hold, per sender, the n's that got a success reply and the n's that
 * got NOT_OWNER; n's that failed otherwise (TIMEOUT, UNAVAILABLE…) may or may not be in the log.
 */
export function checkActorLog(
  actor: string,
  log: ReadonlyArray<readonly [string, number]>,
  acked: ReadonlyMap<string, ReadonlySet<number>>,
  notOwner: ReadonlyMap<string, ReadonlySet<number>>,
  into: SeqCounts = emptyCounts(),
): SeqCounts {
  const seen = new Map<string, Set<number>>();
  const last = new Map<string, number>();
  const note = (s: string) => {
    if (into.samples.length < 12) into.samples.push(`${actor}: ${s}`);
  };
  for (const [from, n] of log) {
    const set = seen.get(from) ?? seen.set(from, new Set()).get(from)!;
    if (set.has(n)) {
      into.duplicated++;
      note(`${from}#${n} applied twice`);
      continue;
    }
    set.add(n);
    const prev = last.get(from);
    if (prev !== undefined && n <= prev) {
      into.outOfOrder++;
      note(`${from}#${n} after #${prev}`);
    }
    last.set(from, n);
  }
  for (const [from, ns] of acked) {
    const got = seen.get(from);
    for (const n of ns) {
      if (got?.has(n)) into.kept++;
      else {
        into.lost++;
        note(`${from}#${n} acknowledged, not in the log`);
      }
    }
  }
  for (const [from, ns] of notOwner) {
    for (const n of ns) {
      if (seen.get(from)?.has(n)) {
        into.notOwnerApplied++;
        note(`${from}#${n} answered NOT_OWNER, yet applied`);
      }
    }
  }
  return into;
}

/** A node that stopped running at `t` (µs, the lifecycle clock) without closing its instances: kill -9, SIGSTOP. */
export interface NodeHalt {
  readonly node: string;
  readonly t: number;
}

/**
 * Instances live on two nodes at once, from the lifecycle feed. A node killed or stopped cannot close its instances
 * (nor run them): they count as closed at the halt. A partitioned node gets no such allowance: it must close its
 * instances itself before another node activates them.
 */
export interface Overlap {
  readonly actor: string;
  /** The node holding the instance, and the node that activated a second one. */
  readonly live: string;
  readonly second: string;
  /** When the second became active (µs). */
  readonly t: number;
}

export function overlappingInstances(events: readonly LifecycleEvent[], halts: readonly NodeHalt[]): Overlap[] {
  type Item = { t: number; order: number; ev?: LifecycleEvent; halt?: NodeHalt };
  const items: Item[] = [
    ...events.map((ev) => ({ t: ev.t, order: ev.e === 'closed' || ev.e === 'fenced' ? 0 : 2, ev })),
    ...halts.map((halt) => ({ t: halt.t, order: 1, halt })),
  ].sort((a, b) => a.t - b.t || a.order - b.order);
  const live = new Map<string, string>();
  const out: Overlap[] = [];
  for (const it of items) {
    if (it.halt) {
      for (const [key, node] of live) if (node === it.halt.node) live.delete(key);
      continue;
    }
    const ev = it.ev!;
    if (ev.e === 'adopted') continue;
    if (ev.e === 'fenced') {
      // The node's serving check refused from this moment on; it closes the instances when it notices.
      for (const [key, node] of live) if (node === ev.n) live.delete(key);
      continue;
    }
    const key = `${ev.k}/${ev.i}`;
    if (ev.e === 'active') {
      const other = live.get(key);
      if (other !== undefined && other !== ev.n) out.push({ actor: key, live: other, second: ev.n, t: ev.t });
      live.set(key, ev.n);
    } else if (live.get(key) === ev.n) live.delete(key);
  }
  return out;
}
