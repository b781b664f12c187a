/**
 * A set where each key is held by a count of claims: `delete` releases one claim, and the key leaves only when the
 * last claim is released. Two live migrations can touch the same shard at once (A→B still handing over its batch
 * while the shard already moves back B→A); with a plain set the first to finish cleared the other's mark, and the
 * reconcile loop then dropped a shard that was still being moved in (a tell sent in that gap had no subscriber).
 */
export class CountedSet {
  private readonly counts = new Map<string, number>();

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Releases one claim; releasing a key that has none is a no-op (teardown paths may run twice). */
  delete(key: string): void {
    const n = this.counts.get(key);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }

  /** Distinct keys held. */
  get size(): number {
    return this.counts.size;
  }
}
