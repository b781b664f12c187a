/**
 * Where an actor cell is in its life, as one value. The turn in progress and a hand-over waiting for it are the turn
 * runner's (turn-runner.ts); unsaved batched changes are the cell's persistence. Everything else is here.
 *
 *   new ──first message / touch──▶ starting ──state loaded──▶ active ◀──▶ stopped (too many crashes)
 *   dormant ──first message──▶ waking ──host's wake-up batch──▶ active
 *   any ──passivated, fenced, handed over, dropped──▶ closed
 */
import type { BusMsg } from '../../bus/bus.js';
import type { Envelope } from './envelope.js';
import type { StoredActor } from './snapshots.js';

/** Everything needed to continue an actor elsewhere (live migration) or later. */
export interface CellImage {
  record: StoredActor | null;
  revision: number;
  /** Messages received but not processed, in arrival order. */
  queued: Array<{ env: Envelope; msg: BusMsg }>;
  /** Batched persistence: changes not yet written travel with the image and are written by the new owner. */
  dirty?: boolean;
}

export type CellLifecycle =
  /** Created for a message (or a spawn); nothing loaded yet. */
  | { readonly type: 'new' }
  /** Adopted from a hand-over and not restored: the image is all there is until the first message. */
  | { readonly type: 'dormant'; readonly image: () => CellImage }
  /** Dormant with work waiting: queued in the host's wake-up batches (messages wait in the mailbox). */
  | { readonly type: 'waking'; readonly image: () => CellImage }
  /** Its stored state is being read (or an image restored): messages wait in the mailbox. */
  | { readonly type: 'starting' }
  /** The XState actor runs turns. */
  | { readonly type: 'active' }
  /** Crashed too often: refuses messages (ACTOR_STOPPED) until it passivates. */
  | { readonly type: 'stopped' }
  /** Left memory (passivated, fenced, handed over, dropped, failed to start): messages go back to the host. */
  | { readonly type: 'closed' };

// The states without data are shared values: a transition allocates nothing.
export const NEW: CellLifecycle = { type: 'new' };
export const STARTING: CellLifecycle = { type: 'starting' };
export const ACTIVE: CellLifecycle = { type: 'active' };
export const STOPPED: CellLifecycle = { type: 'stopped' };
export const CLOSED: CellLifecycle = { type: 'closed' };
