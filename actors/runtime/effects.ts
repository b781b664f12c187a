/**
 * Effects: the only way a machine reaches the outside. A machine emits them with XState's `emit()`; the runtime
 * collects them during the turn and carries them out after the turn commits (after the snapshot write, for durable
 * actors), so the world never sees the effects of a state that could still be lost.
 */
import type { WireError } from '../../common/errors.js';

/** Address of an actor: sharded by id, or pinned to a node (connections live on their gateway). */
export interface Address {
  kind: string;
  id: string;
  node?: string;
}

/** A client connection: the gateway node holding the socket, and the connection id there. */
export interface ConnRef {
  gw: string;
  id: string;
}

export type Effect =
  /** Answer the asker of the current message (the first reply of a turn wins). */
  | { type: 'reply'; body?: unknown; error?: WireError }
  /** Fire-and-forget message to another actor. */
  | { type: 'tell'; to: Address; msg: unknown }
  /** Push to client connections; fan-out goes once per gateway, not once per connection. */
  | { type: 'push'; to: ConnRef | ConnRef[]; route: string; body: unknown }
  /**
   * Ask another actor inside this turn: the turn waits, then the runtime sends `{type: then, ok, body | error}` to this
   * actor (still the same turn: no other message interleaves).
   */
  | { type: 'ask'; to: Address; msg: unknown; then: string; timeoutMs?: number }
  /** Leave memory after this turn; with `forget`, also delete the stored snapshot (e.g. an emptied city resets). */
  | { type: 'passivate'; forget?: boolean };

export const EFFECT_TYPES = new Set(['reply', 'tell', 'push', 'ask', 'passivate']);

export function isEffect(e: { type: string }): e is Effect {
  return EFFECT_TYPES.has(e.type);
}

/** The event an `ask` effect's result comes back as. */
export type AskResultEvent = { type: string; ok: true; body: unknown } | { type: string; ok: false; error: WireError };
