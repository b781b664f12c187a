import type { Clock } from '../common/clock.js';

/**
 * Flow control of a hand-over: actors sent to the new owner and not yet adopted, per unit. Counted in actors, not
 * shards: the new owner's work is per actor, and the empty shards of other kinds should not each cost a round trip.
 * Acks pace, they do not guard: past `waitMs` without one the old owner goes on.
 */
export class AckWindow {
  private readonly unacked = new Map<string, number>();
  private actors = 0;
  private wake?: () => void;

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly waitMs: number,
  ) {}

  sent(key: string, actors: number): void {
    if (actors === 0) return;
    this.unacked.set(key, actors);
    this.actors += actors;
  }

  acked(key: unknown): void {
    const n = typeof key === 'string' ? this.unacked.get(key) : undefined;
    if (n === undefined) return;
    this.unacked.delete(key as string);
    this.actors -= n;
    if (this.actors < this.limit) this.wake?.();
  }

  /** Resolves once fewer than `limit` actors are unacknowledged, or after `waitMs`. */
  open(): Promise<void> {
    if (this.actors < this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.wake?.(), this.waitMs);
      this.wake = () => {
        this.wake = undefined;
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }
}
