/** Awaiting helpers for tests: wait for a condition or a count, bounded, never a bare sleep. */

/**
 * Polls `fn` until it returns a truthy value. Bounded as a whole: an attempt begun before the deadline may still
 * finish (and succeed) up to `timeoutMs` after it, so a slow store read on a loaded host is not cut short, but one
 * that never answers fails the wait at twice `timeoutMs` instead of holding it for good. On timeout the error names
 * `what`, the last error `fn` threw, and `detail()`: the state worth knowing then (which node, which shard, what
 * answered).
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 10, what = 'condition', detail }: { timeoutMs?: number; intervalMs?: number; what?: string; detail?: () => string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  const fail = (how: string) =>
    new Error(`timed out after ${timeoutMs} ms waiting for ${what}${how}${last ? `: ${String(last)}` : ''}${stateOf(detail, '; ')}`);
  for (;;) {
    let v: T | typeof STILL_RUNNING | undefined;
    try {
      v = await beforeDeadline(fn(), deadline + timeoutMs);
    } catch (err) {
      last = err;
    }
    if (v === STILL_RUNNING) throw fail(` (its last attempt had not returned ${timeoutMs} ms later)`);
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw fail('');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const STILL_RUNNING = Symbol('still running');

/** `p`'s value, or STILL_RUNNING once `deadline` (Date.now() ms) passes first; a later rejection of `p` is dropped. */
function beforeDeadline<T>(p: T | Promise<T>, deadline: number): Promise<T | typeof STILL_RUNNING> {
  if (!(p instanceof Promise)) return Promise.resolve(p);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof STILL_RUNNING>((r) => (timer = setTimeout(() => r(STILL_RUNNING), Math.max(0, deadline - Date.now()))));
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * One awaited step, bounded and named: `p`'s value, or after `timeoutMs` an error naming `what` and `detail()` (the
 * state then). For the steps of a long test that are not polls (a start, a write, a stop), so that a stall says
 * where it stalled rather than ending as the runner's bare timeout.
 */
export async function within<T>(what: string, timeoutMs: number, p: Promise<T>, detail?: () => string): Promise<T> {
  const v = await beforeDeadline(p, Date.now() + timeoutMs);
  if (v !== STILL_RUNNING) return v;
  throw new Error(`${what}: not done after ${timeoutMs} ms${stateOf(detail, ': ')}`);
}

/** `detail()` after `sep`, for an error message; '' without one; a detail that throws is named, not thrown. */
function stateOf(detail: (() => string) | undefined, sep: string): string {
  if (!detail) return '';
  try {
    return `${sep}${detail()}`;
  } catch (err) {
    return `${sep}(detail threw: ${String(err)})`;
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
