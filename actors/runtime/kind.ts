/**
 * An actor kind, declared once: its XState machine (pure: no I/O in the machine file), how incoming messages become
 * events, how it persists and when it may passivate. Machines talk to the world only by emitting effects
 * (see effects.ts); the runtime carries them out after the turn commits.
 */
import type { AnyStateMachine, EventFromLogic, InputFrom, SnapshotFrom } from 'xstate';
import { assertKindName } from '../../bus/subjects.js';
import { GatehouseError, ErrorCode, type WireError } from '../../common/errors.js';

export type Persistence =
  /** State lives in memory only; a crash restarts from the state before the failing message, a node loss forgets. */
  | 'none'
  /** Every turn that changes state writes the snapshot (compare-and-set) before replying: acknowledged = durable. */
  | 'snapshot'
  /** Changes are written at most every `batchMs`; a node loss may forget the last window. */
  | { batchMs: number };

export interface MessageMeta {
  /** Sender id of the envelope (a node incarnation), when known. */
  sender?: string;
  /** True when the sender waits for a reply. */
  ask: boolean;
}

export interface ActorKind<M extends AnyStateMachine = AnyStateMachine> {
  readonly name: string;
  readonly machine: M;
  /**
   * Turns a message into an event. Validate here and throw `badMessage(...)` for anything malformed: the asker gets
   * BAD_MESSAGE and the actor never sees it. Default: the message itself, when it is an object with a string `type`.
   */
  toEvent?(msg: unknown, meta: MessageMeta): EventFromLogic<M>;
  /** Input for a fresh actor. */
  input?(id: string): InputFrom<M>;
  /**
   * Durable kinds: the stored (or handed-over) snapshot an actor starts from, adjusted first. A context field the
   * input takes from this node's configuration rather than from the actor's history is set again here, so a
   * configuration change reaches records written before it (XState keeps a restored context as stored, and never
   * reads the input again). Called as a method of the kind. Default: the snapshot as stored.
   */
  restore?(persisted: unknown, id: string): unknown;
  persistence?: Persistence;
  /** Idle time before the actor is passivated (removed from memory). Default: config actors.passivateAfterMs. */
  passivateAfterMs?: number;
  /**
   * Whether an idle actor may be passivated. Default: durable kinds always; 'none' kinds only when the machine is
   * done (their state would be lost otherwise).
   */
  canPassivate?(snapshot: SnapshotFrom<M>): boolean;
  /** 'pinned' actors live on the node that created them (connections on their gateway); default 'sharded'. */
  placement?: 'sharded' | 'pinned';
  /** What an ask gets when the machine emitted no reply. Default: null. */
  defaultReply?(snapshot: SnapshotFrom<M>): unknown;
  /**
   * Durable kinds: what a message to an actor with no stored state gets instead of creating it. When every message
   * waiting for a fresh cell's first turn gets an error here (e.g. NOT_FOUND for a read of an unknown record), the
   * cell answers those errors and goes away without starting: nothing activated, nothing written. Return undefined
   * for messages that may create the actor (its owner's first login). Default: every message creates.
   */
  ifMissing?(msg: unknown): WireError | undefined;
  /**
   * Names of fields no operations tool may show (secrets, tickets, tokens). Wherever a property of one of these names
   * occurs, at any depth, in the actor's context (`$inspect`) or in a message to its inbox (`gatehouse tail`), the
   * tool shows '[redacted]' instead (turn-views.ts `redactFields`). Traces carry state values only, never context.
   */
  redact?: readonly string[];
}

/**
 * A ready-made `restore` for kinds whose input is configuration (capacities, timings, shard counts), never changed by
 * the machine: the kind's current `input(id)` laid over the stored context, so a changed setting reaches actors
 * stored before it while everything the actor built keeps. An id the input now refuses (a layer a smaller tree no
 * longer has) keeps its stored values, so the actor still runs for those inside it.
 */
export function reapplyInput(this: ActorKind, persisted: unknown, id: string): unknown {
  const context = (persisted as { context?: unknown } | null)?.context;
  if (typeof context !== 'object' || context === null || !this.input) return persisted;
  let fields: unknown;
  try {
    fields = this.input(id);
  } catch {
    return persisted;
  }
  return { ...(persisted as object), context: { ...context, ...(fields as object) } };
}

export function defineKind<M extends AnyStateMachine>(kind: ActorKind<M>): ActorKind<M> {
  assertKindName(kind.name);
  const p = kind.persistence;
  if (p !== undefined && p !== 'none' && p !== 'snapshot' && !(typeof p === 'object' && p.batchMs > 0)) {
    throw new GatehouseError(ErrorCode.BadMessage, `kind ${kind.name}: persistence must be 'none', 'snapshot' or {batchMs > 0}`);
  }
  return kind;
}

export function isDurable(kind: ActorKind): boolean {
  return kind.persistence !== undefined && kind.persistence !== 'none';
}

export function badMessage(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BadMessage, message);
}

/** Default toEvent: accept `{type: string, ...}` and nothing else. */
export function defaultToEvent(msg: unknown): { type: string } {
  if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') {
    throw badMessage('message must be an object with a string "type"');
  }
  return msg as { type: string };
}
