/**
 * Runs the tasks of one key one after another (a failed task does not stop the next), different keys at once. Used
 * for the requests of one session that change where it stands, so a double click cannot interleave two moves.
 * Memory is bounded by the keys with work pending: a key's entry goes when its last task ends.
 */
export class KeyedChain {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with a task pending (for tests and status). */
  get size(): number {
    return this.tails.size;
  }
}
