/**
 * What the turn path knows of the flight recorder (recorder.ts): a narrow hook TraceTaps carries, kept apart so that
 * trace.ts and recorder.ts do not import each other.
 */
import type { AnyActor } from 'xstate';
import type { ActorKind } from './kind.js';
import type { StoredActor } from './snapshots.js';

/** What a recorded actor's node needs of its TurnRunner. */
export interface RecordedRunner {
  readonly kind: ActorKind;
  readonly id: string;
  readonly actor?: AnyActor;
  record(): StoredActor | null;
}

export interface TurnRecorderHook {
  /** Anything recorded or counted now: the turn path reads this before calling begin. */
  readonly active: boolean;
  /** Before a turn's first event. */
  begin(r: RecordedRunner, label: string): void;
  /** After the turn committed (or crashed). */
  end(r: RecordedRunner, crashed?: boolean): void;
}
