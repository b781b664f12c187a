/** Awaiting helpers for tests: wait for a condition or a count, bounded, never a bare sleep. */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 10, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Collects messages and resolves when `n` have arrived. */
export function collector<T>(n: number, timeoutMs = 10_000) {
  const items: T[] = [];
  const d = deferred<T[]>();
  const timer = setTimeout(
    () => d.reject(new Error(`expected ${n} items, got ${items.length} within ${timeoutMs} ms`)),
    timeoutMs,
  );
  return {
    items,
    push(x: T) {
      items.push(x);
      if (items.length === n) {
        clearTimeout(timer);
        d.resolve(items);
      }
    },
    done: d.promise,
  };
}

/**
 * Waiting on state that callbacks update (frames arriving, leases changing) without polling: the owner calls
 * `changed()` after each update, and `until(test, …)` resolves with `test`'s first result other than undefined,
 * rejects with what `test` throws (say, "closed before …"), or with `onTimeout()` after `timeoutMs`.
 */
export class Changes {
  private readonly waiters = new Set<() => void>();

  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  until<T>(test: () => T | undefined, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        let v: T | undefined;
        try {
          v = test();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(onTimeout());
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
