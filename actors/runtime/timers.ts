/**
 * XState timers, made turn-safe and durable.
 *
 * 1. Turn-safe: XState fires delayed events from its clock callback, which would run outside the actor's mailbox.
 *    The clock given to XState here only *enqueues* the callback as a mailbox item, so a timer is a turn like any
 *    message (no interleaving, effects and persistence handled the same way).
 * 2. Durable: XState's persisted snapshot does not include pending delayed events (checked on xstate 5.x: a restored
 *    actor's `after` never fires). We wrap the actor system's scheduler to track {id, event, dueAt}, persist that
 *    next to the snapshot, and re-schedule on restore, so timers survive passivation, migration and fail-over.
 */
import type { AnyActorRef, EventObject } from 'xstate';
import type { Clock, TimerHandle } from '../../common/clock.js';

export type PersistedTimer = [id: string, dueAt: number, event: EventObject];

interface Scheduler {
  schedule(source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id?: string): void;
  cancel(source: AnyActorRef, id: string): void;
}

export class ActorTimers {
  private readonly tracked = new Map<string, { dueAt: number; event: EventObject }>();
  /** Id of the event XState is scheduling right now: links its clock callback to our tracking entry. */
  private scheduling: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly enqueue: (fire: () => void) => void,
  ) {}

  /** The clock handed to XState's createActor. */
  readonly xstateClock = {
    setTimeout: (fn: () => void, ms: number): TimerHandle => {
      const id = this.scheduling;
      return this.clock.setTimeout(
        () =>
          this.enqueue(() => {
            if (id !== undefined) this.tracked.delete(id);
            fn();
          }),
        ms,
      );
    },
    clearTimeout: (h: TimerHandle): void => this.clock.clearTimeout(h),
  };

  /** Wraps the root actor's scheduler (once, before start) so scheduled and cancelled events are tracked. */
  attach(root: AnyActorRef): void {
    const scheduler = (root.system as unknown as { scheduler: Scheduler }).scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    scheduler.schedule = (source, target, event, delay, id) => {
      const key = id ?? `t${Math.random().toString(36).slice(2)}`;
      // Only self-addressed events of the root survive persistence; children are not persisted by gatehouse.
      if (source === root && target === root) this.tracked.set(key, { dueAt: this.clock.now() + delay, event });
      this.scheduling = source === root && target === root ? key : undefined;
      try {
        schedule(source, target, event, delay, key);
      } finally {
        this.scheduling = undefined;
      }
    };
    scheduler.cancel = (source, id) => {
      if (source === root) this.tracked.delete(id);
      cancel(source, id);
    };
  }

  get size(): number {
    return this.tracked.size;
  }

  persisted(): PersistedTimer[] {
    return [...this.tracked].map(([id, t]) => [id, t.dueAt, t.event]);
  }

  /** Re-schedules persisted timers on a freshly started root actor; overdue ones fire at once (as a turn). */
  restore(root: AnyActorRef, timers: readonly PersistedTimer[]): void {
    const scheduler = (root.system as unknown as { scheduler: Scheduler }).scheduler;
    const now = this.clock.now();
    for (const [id, dueAt, event] of timers) scheduler.schedule(root, root, event, Math.max(0, dueAt - now), id);
  }

  clear(): void {
    this.tracked.clear();
  }
}
