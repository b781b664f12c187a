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
