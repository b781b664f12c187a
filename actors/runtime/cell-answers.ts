/**
 * The answers an actor's cell (cell.ts) gives without a turn: to reads of an actor that does not exist, and to the
 * asker of a turn whose snapshot write failed. Apart from the cell because they are small decision tables of their
 * own, testable without an actor.
 *
 * A failed write (`unsaved`):
 * - fenced (compare-and-set conflict): a newer owner wrote first; the cell leaves. The asker hears NOT_OWNER, or
 *   MAYBE_APPLIED when the store shows that this very message was applied (see `conflictAnswer`).
 * - refused, provably unwritten (`refusedUnwritten`): the turn is rolled back and the asker hears STORE_ERROR.
 * - anything else: the write may land. The asker hears MAYBE_APPLIED and the cell leaves, to reload what is stored.
 */
import { ErrorCode, type WireError } from '../../common/errors.js';
import { decodeEnvelope, type Envelope } from './envelope.js';
import type { ActorKind } from './kind.js';
import type { SnapshotStore } from './snapshots.js';
import type { Item } from './turn-owner.js';

/**
 * No stored state for the actor: the answer to every waiting item when the kind answers each of them for a missing
 * actor (ActorKind.ifMissing), so reads of unknown ids create no actor and write no record; undefined (start it) when
 * it has no `ifMissing`, nothing is waiting, or any item is not such a message.
 */
export function missingAnswer(kind: Pick<ActorKind, 'ifMissing'>, items: readonly Item[]): WireError | undefined {
  const ifMissing = kind.ifMissing;
  if (!ifMissing) return undefined;
  let error: WireError | undefined;
  for (const item of items) {
    error = item.k === 'msg' ? ifMissing(item.env.m) : undefined;
    if (!error) break;
  }
  return error;
}

/**
 * A store failure that proves the write was not applied: nobody could take it (NO_RESPONDERS: the stream has no leader
 * during an election) or the store refused it (STORE_ERROR: a JetStream API error; BAD_KEY). Anything else may have
 * reached the store: TIMEOUT, BUS_ERROR, and CLOSED (a connection lost before or after the request left).
 */
export function refusedUnwritten(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return code === ErrorCode.NoResponders || code === ErrorCode.StoreError || code === ErrorCode.BadKey;
}

export function maybeApplied(kind: string, id: string): WireError {
  return { code: ErrorCode.MaybeApplied, message: `${kind}/${id}: the update may have been applied` };
}

/**
 * The answer to an ask whose write met a compare-and-set conflict. A conflict means a newer owner wrote first, so the
 * update was not applied: NOT_OWNER. But nats-server 2.9 has answered "wrong last sequence" for writes it had applied,
 * right after a cut-off server leading the stream rejoined (docs/INVARIANTS.md, "Failover"). So the stored record is read
 * first: if its last mark from this sender is this very message (marks are set only by processing), or the read
 * fails, the answer is MAYBE_APPLIED (NOT_OWNER must mean "not applied"). The read must also be at least as new as
 * the conflict: a record at or below `baseRevision` (the revision the write expected), or none at all, is a stale
 * read (a replica behind, a cut-off server's old leader still answering): it cannot show whether the write landed,
 * so MAYBE_APPLIED (a nats-cutoff run answered NOT_OWNER for an applied update this way). A newer record without this
 * mark was written by an owner that loaded the state without this update, so it was not applied. A mark past it
 * proves nothing either way (a later message of the sender was applied) and keeps NOT_OWNER: a caller with one update
 * in flight per actor never meets that case. Answered at once (not a promise) when there is nothing to read: no
 * sender identity, or no store.
 */
export function conflictAnswer(
  store: Pick<SnapshotStore, 'load'> | undefined,
  kind: string,
  id: string,
  data: Uint8Array,
  baseRevision: number,
): WireError | Promise<WireError> {
  const notOwner: WireError = { code: ErrorCode.NotOwner, message: `${kind}/${id} moved; retry` };
  let env: Envelope;
  try {
    env = decodeEnvelope(data);
  } catch {
    return notOwner; // not decodable: it was never applied
  }
  const { s, q } = env;
  if (s === undefined || q === undefined || !store) return notOwner; // no dedupe identity to check
  return store.load(kind, id).then(
    (r) => {
      if (!r || r.revision <= baseRevision) return maybeApplied(kind, id); // stale: cannot tell
      return r.record.d.find(([from]) => from === s)?.[1] === q ? maybeApplied(kind, id) : notOwner;
    },
    () => maybeApplied(kind, id),
  );
}
