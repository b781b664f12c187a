/**
 * Start-up steps that must wait for the bus or the store: a freshly started 3-server NATS cluster answers
 * NO_RESPONDERS on a new replicated stream until it has elected a leader (under 1 s fresh, 5–30 s restarted with
 * data), and a node must not exit for that. `retryUntil` repeats a step with backoff until its deadline, saying what
 * it waits for once when it starts waiting, then every `reportEveryMs` (never per try), and once when it got through.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { errorMessage } from './errors.js';

export interface RetryOptions {
  clock: Clock;
  log: Logger;
  /** Absolute time (clock.now()) after which the last error is thrown. */
  deadline: number;
  /** First pause between tries; doubles up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  reportEveryMs?: number;
  /** False for errors no wait will cure (a bad key, a config error): thrown at once. Default: everything retries. */
  transient?: (err: unknown) => boolean;
}

export async function retryUntil<T>(what: string, step: () => Promise<T>, o: RetryOptions): Promise<T> {
  const { clock, log } = o;
  const started = clock.now();
  let delay = o.firstDelayMs ?? 100;
  let reportedAt: number | undefined;
  for (let tries = 1; ; tries++) {
    try {
      const v = await step();
      if (reportedAt !== undefined) log.info({ step: what, tries, waitedMs: clock.now() - started }, 'start step done');
      return v;
    } catch (err) {
      const now = clock.now();
      if ((o.transient && !o.transient(err)) || now + delay > o.deadline) throw err;
      if (reportedAt === undefined || now - reportedAt >= (o.reportEveryMs ?? 5000)) {
        reportedAt = now;
        log.warn({ step: what, tries, waitingMs: now - started, err: errorMessage(err) }, 'start step waiting for the bus or store');
      }
      await new Promise<void>((r) => clock.setTimeout(r, delay));
      delay = Math.min(delay * 2, o.maxDelayMs ?? 1000);
    }
  }
}
