/**
 * Pure helpers of a cell's turn: whether a turn changed anything worth writing, and the views of an actor that
 * operators see (`$inspect` replies, trace records). Kept apart from the cell so they can be read and tested alone.
 */
import type { Snapshot } from 'xstate';
import { toJsonValue } from '../../bus/codec.js';
import type { ActorKind } from './kind.js';
import type { PersistedTimer } from './timers.js';

type Viewed = Snapshot<unknown> & { value?: unknown; context?: unknown };

/**
 * True when a turn changed nothing but when its timers fire: same state value, same context object (XState keeps it
 * when nothing was assigned), same status, same pending timer ids. Such a turn is not written; after a fail-over
 * the stored due times are then older, so a periodic timer fires early once, which is harmless.
 */
export function onlyTimersMoved(prev: Snapshot<unknown>, snap: Snapshot<unknown>, timersBefore: readonly PersistedTimer[], timersNow: readonly PersistedTimer[]): boolean {
  const a = prev as Viewed;
  const b = snap as Viewed;
  if (a.context !== b.context || a.status !== b.status) return false;
  if (a.value !== b.value && JSON.stringify(a.value) !== JSON.stringify(b.value)) return false;
  if (timersNow.length !== timersBefore.length) return false;
  const before = new Set(timersBefore.map(([id]) => id));
  return timersNow.every(([id]) => before.has(id));
}

export const REDACTED = '[redacted]';

/** Nesting followed when redacting: a context deeper than this is cut there (shown as '[redacted]' too). */
const REDACT_DEPTH = 32;

/**
 * A copy of `value` (JSON-shaped, as toJsonValue gives) with every property named in `fields` replaced by
 * '[redacted]', at any depth. The value itself is never changed: it may be the actor's live context.
 */
export function redactFields(value: unknown, fields: readonly string[] | undefined, depth = 0): unknown {
  if (!fields?.length || value === null || typeof value !== 'object') return value;
  if (depth >= REDACT_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, fields, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = fields.includes(k) ? REDACTED : redactFields(v, fields, depth + 1);
  }
  return out;
}

/**
 * What `$inspect` answers: where the actor is, its state as JSON, and its runtime counters. The kind's `redact`
 * fields are replaced (session secrets: an inspect that printed one let its reader resume the victim's session).
 */
export function inspectView(
  where: { kind: ActorKind; id: string; node: string; stopped: boolean },
  snap: Snapshot<unknown> | undefined,
  counters: { mailbox: number; timers: number; revision: number },
) {
  const s = snap as Viewed | undefined;
  return {
    kind: where.kind.name,
    id: where.id,
    node: where.node,
    status: where.stopped ? 'stopped' : s?.status,
    value: toJsonValue(s?.value),
    context: redactFields(toJsonValue(s?.context), where.kind.redact),
    ...counters,
    persistence: where.kind.persistence ?? 'none',
  };
}

/** One trace record: the event a turn handled and the state values before and after it. */
export function transitionRecord(kind: string, id: string, event: string, prev: Snapshot<unknown>, snap: Snapshot<unknown>) {
  return { kind, id, event, from: toJsonValue((prev as Viewed).value), to: toJsonValue((snap as Viewed).value) };
}
