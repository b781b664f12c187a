/**
 * The chaos run's fault schedule, pure and seeded: the same seed gives the same faults, targets and timings, so a
 * failing run can be re-run as it was (`npm run chaos -- --seed N`).
 */
export type FaultKind = 'kill-worker' | 'kill-nats' | 'stop-worker' | 'partition-worker' | 'drain-worker' | 'kill-gateway';

export const FAULT_KINDS: readonly FaultKind[] = ['kill-worker', 'kill-nats', 'stop-worker', 'partition-worker', 'drain-worker', 'kill-gateway'];

export interface Fault {
  /** Start, in ms after the load started. */
  readonly at: number;
  readonly kind: FaultKind;
  /** Index of the worker or nats-server it hits (0 for the gateway). */
  readonly target: number;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  /** Room each fault gets (its hold time plus recovery) before the next one starts. */
  slotMs: number;
  kinds: readonly FaultKind[];
  workers: number;
  natsServers: number;
}

/**
 * One fault per slot, from `slotMs` on. Every kind comes once, in a seeded order, before any kind comes again, so a
 * short run still covers them all; targets and the start within the first quarter of each slot are seeded too.
 */
export function makeSchedule(o: ScheduleOptions): Fault[] {
  const rnd = prng(o.seed);
  const slots = Math.max(1, Math.floor(o.durationMs / o.slotMs));
  const out: Fault[] = [];
  let bag: FaultKind[] = [];
  for (let s = 0; s < slots; s++) {
    if (bag.length === 0) {
      bag = [...o.kinds];
      for (let i = bag.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [bag[i], bag[j]] = [bag[j]!, bag[i]!];
      }
    }
    const kind = bag.shift()!;
    const n = kind === 'kill-nats' ? o.natsServers : kind === 'kill-gateway' ? 1 : o.workers;
    out.push({ at: s * o.slotMs + Math.floor(rnd() * (o.slotMs / 4)), kind, target: Math.floor(rnd() * n) });
  }
  return out;
}
