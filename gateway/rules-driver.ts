/**
 * Runs one connection's pure rules (protocol/connection-rules.ts) on the injected clock: applies frames and events
 * at `clock.now()`, hands the actions to `execute`, and keeps the one timer the rules need for their `deadline`.
 *
 * The timer is re-armed lazily: it is set for the current deadline and, when it fires early because frames moved the
 * deadline on, the rules find nothing due and it is set again for the rest, so receiving a frame never touches a
 * timer. Inputs given while `execute` runs (e.g. a write trips the outbound limit and the connection closes) are
 * queued and applied after it, not nested inside it.
 */
import type { Clock, TimerHandle } from '../common/clock.js';
import {
  NO_DEADLINE,
  type ConnectionAction,
  type ConnectionEvent,
  type ConnectionRules,
} from '../protocol/connection-rules.js';

type Queued<In> = { type: 'frame'; frame: In } | ConnectionEvent | { type: 'tick' };

const TICK = Object.freeze({ type: 'tick' as const });

export class RulesDriver<In, Out> {
  private timer: TimerHandle | undefined;
  private timerAt = NO_DEADLINE;
  private readonly queue: Queued<In>[] = [];
  private running = false;
  private disposed = false;
  /** The clock reading the input being applied was applied at: what the actions it gave were decided at. */
  now = 0;
  /** Bound once per connection, so arming the timer allocates no closure. */
  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = NO_DEADLINE;
    this.apply(TICK, false);
  };

  constructor(
    private readonly clock: Clock,
    readonly rules: ConnectionRules<In, Out>,
    private readonly execute: (actions: ConnectionAction<Out>[]) => void,
  ) {
    this.arm(); // the handshake deadline runs from the moment the transport opened
  }

  /** A frame from the client. */
  receive(frame: In): void {
    this.apply(frame, true);
  }

  handle(event: ConnectionEvent): void {
    this.apply(event, false);
  }

  /** Stops the timer for good; inputs are still applied but no deadline fires. Call when the connection is gone. */
  dispose(): void {
    this.disposed = true;
    this.disarm();
  }

  /** Applies `input` (a frame when `isFrame`), then whatever was queued meanwhile. Never throws by itself. */
  private apply(input: In | Queued<In>, isFrame: boolean): void {
    if (this.running) {
      this.queue.push(isFrame ? { type: 'frame', frame: input as In } : (input as Queued<In>));
      return;
    }
    this.running = true;
    try {
      this.step(input, isFrame);
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        if (next.type === 'frame') this.step((next as { frame: In }).frame, true);
        else this.step(next, false);
      }
    } finally {
      this.running = false;
    }
  }

  private step(input: In | Queued<In>, isFrame: boolean): void {
    const now = (this.now = this.clock.now());
    const rules = this.rules;
    const actions = isFrame
      ? rules.receive(input as In, now)
      : (input as Queued<In>).type === 'tick'
        ? rules.tick(now)
        : rules.handle(input as ConnectionEvent, now);
    this.arm();
    if (actions.length > 0) this.execute(actions);
  }

  private arm(): void {
    const deadline = this.rules.deadline;
    if (this.disposed || deadline === NO_DEADLINE) return this.disarm();
    if (deadline >= this.timerAt) return; // armed already: it fires first, finds time left and re-arms
    this.disarm();
    this.timerAt = deadline;
    this.timer = this.clock.setTimeout(this.fire, Math.max(0, deadline - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = NO_DEADLINE;
  }
}
