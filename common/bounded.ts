import type { Clock, TimerHandle } from './clock.js';
import { TimeoutError } from './errors.js';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight: a pool, not fixed batches, so one slow call does not
 * hold back the rest. For bursts of store requests (listing a bucket, taking a move's leases) that would otherwise hold
 * the event loop long enough to show in latency tails.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * `p`, or a TimeoutError naming `what` after `ms` on `clock`: for awaits that depend on another party (a bus flush
 * waits for the server's answer) and must not hold a caller forever. The timer is cleared either way.
 */
export async function withinMs<T>(clock: Clock, ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: TimerHandle | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clock.clearTimeout(timer);
  }
}
