/**
 * The narrow interface between an actor's cell (cell.ts) and the turn runner it owns (turn-runner.ts), and the items
 * of its mailbox. Apart from both so that each can be read without the other.
 */
import type { Snapshot } from 'xstate';
import type { BusMsg } from '../../bus/bus.js';
import type { CellLifecycle } from './cell-lifecycle.js';
import type { Envelope } from './envelope.js';
import type { PersistedTimer } from './timers.js';

export type AnySnapshot = Snapshot<unknown>;

export type Item =
  | { k: 'msg'; env: Envelope; msg: BusMsg }
  | { k: 'timer'; fire: () => void }
  | { k: 'task'; run: () => void | Promise<void> };

/** What the runner needs from the cell owning it (ActorCell): its lifecycle and the writes of its state. */
export interface TurnOwner {
  /** Read per item: a stopped actor refuses messages, a closed one hands them back (the pump starts once it started). */
  readonly lifecycle: CellLifecycle;
  /** The store revision last written or loaded (for `$inspect`). */
  readonly revision: number;
  /** Writes the actor's state now ('snapshot' persistence): 'fenced' when a newer owner has written since. */
  persist(): Promise<'ok' | 'fenced' | Error>;
  /** Deletes the stored state instead of writing it (a turn ending in a passivation with `forget`). */
  forgetStored(): Promise<'ok' | 'fenced' | Error>;
  /** A turn whose snapshot could not be written: nothing of it is acknowledged or carried out. */
  unsaved(res: 'fenced' | Error, msg: BusMsg | undefined, label: string, prev: AnySnapshot, timersBefore: PersistedTimer[]): void;
  /** Batched persistence: the state changed; write it within `batchMs`. */
  markDirty(batchMs: number): void;
  /** Queues work for a later turn (a due timer, a passivation): the cell decides how it starts. */
  enqueue(item: Item): void;
  /** Leaves memory after a passivation (writing unsaved state first, deleting it with `forget`). */
  deactivate(forget: boolean): Promise<void>;
  /** Supervision gave up (too many crashes in the window): the actor is stopped until it passivates. */
  escalate(): void;
}
