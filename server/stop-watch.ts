/**
 * Says which step a node's stop waits on when it takes long. A stop is bounded from outside (a thread node is
 * terminated after 10 s, a supervisor sends SIGKILL), and a bound that fires silently leaves nobody knowing what hung.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/clock.js';

export interface StopWatch {
  /** The step the stop is on now. */
  step(name: string): void;
  done(): void;
}

/**
 * Warns every `everyMs` while the stop lasts, naming the current step and its age, with `progress()` (what is left:
 * e.g. the actors not yet handed over, a few of them described).
 */
export function stopWatch(clock: Clock, log: Logger, progress: () => object | undefined, everyMs = 3000): StopWatch {
  const started = clock.now();
  let step = 'starting';
  let stepAt = started;
  let timer: TimerHandle | undefined;
  const arm = () => {
    timer = clock.setTimeout(() => {
      const now = clock.now();
      log.warn({ step, stepMs: now - stepAt, stopMs: now - started, ...progress() }, `node stop still waiting on: ${step}`);
      arm();
    }, everyMs);
  };
  arm();
  return {
    step(name) {
      step = name;
      stepAt = clock.now();
    },
    done() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
