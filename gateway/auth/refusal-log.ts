/**
 * Refusal log lines that an attack cannot turn into a flood. A script trying credentials in a loop is refused
 * thousands of times a minute; one line each fills the disk and buries whatever else the night had to say. Per
 * window (a minute by default, starting at the first refusal) the first few refusals are logged in full, the rest
 * are only counted (per error code), and one summary line at the window's end says how many were left out.
 *
 * Pure bookkeeping on the injected clock: one timer per window with something left out, none otherwise.
 */
import type { Clock, TimerHandle } from '../../common/clock.js';

/** What it needs of a pino logger. */
export interface InfoLog {
  info(fields: Record<string, unknown>, msg: string): void;
}

export interface RefusalLogOptions {
  /** Refusals logged in full per window. */
  readonly perWindow: number;
  readonly windowMs: number;
}

export const REFUSAL_LOG_DEFAULTS: RefusalLogOptions = { perWindow: 5, windowMs: 60_000 };

export interface RefusalLog {
  /** One refusal: logged with `fields` while the window's allowance lasts, else counted under `code`. */
  refused(fields: Record<string, unknown>, code: string): void;
}

export function createRefusalLog(log: InfoLog, clock: Clock, msg: string, o: RefusalLogOptions = REFUSAL_LOG_DEFAULTS): RefusalLog {
  let windowEnd = -Infinity;
  let logged = 0;
  let left = 0;
  let codes: Record<string, number> = {};
  let timer: TimerHandle | undefined;

  const summarize = () => {
    timer = undefined;
    if (left > 0) log.info({ leftOut: left, codes, windowMs: o.windowMs }, `${msg}: ${left} more not logged one by one`);
    left = 0;
    codes = {};
  };

  return {
    refused(fields, code) {
      const now = clock.now();
      if (now >= windowEnd) {
        // A new window. A summary still due is written first (the timer may not have run yet on this clock).
        if (timer !== undefined) {
          clock.clearTimeout(timer);
          summarize();
        }
        windowEnd = now + o.windowMs;
        logged = 0;
      }
      if (logged < o.perWindow) {
        logged++;
        log.info(fields, msg);
        return;
      }
      left++;
      codes[code] = (codes[code] ?? 0) + 1;
      timer ??= clock.setTimeout(summarize, windowEnd - now);
    },
  };
}
