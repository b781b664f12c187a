/**
 * `gatehouse tail <pattern>`: subscribe and print every message on matching subjects, one line each, MessagePack bodies
 * decoded (actor envelopes, replies, traces), with ISO times, traces' states by name and compact bodies: readable text
 * on a terminal, JSON lines when piped (`--format`). Subscribing to trace subjects also announces a tap, so nodes
 * start publishing transitions for the matching actors.
 */
import type { Bus } from '../../bus/bus.js';
import { toJson } from '../../bus/codec.js';
import { parseActorSubject } from '../../bus/subjects.js';
import type { ActorKind } from '../../actors/runtime/kind.js';
import { announceTap } from '../../actors/runtime/trace.js';
import { redactFields } from '../../actors/runtime/turn-views.js';

/** Kind name → the fields its declaration redacts (`defineKind({redact})`), for the kinds that declare any. */
export type Redactions = ReadonlyMap<string, readonly string[]>;

export function redactionsOf(kinds: Iterable<ActorKind>): Redactions {
  const out = new Map<string, readonly string[]>();
  for (const k of kinds) if (k.redact?.length) out.set(k.name, k.redact);
  return out;
}

/** Hand-over chunks (`sys.ho.…`) carry whole actor images, secrets included: tail shows only their size. */
const HANDOVER = /^sys\.ho\./;
const TRACE = /^trace\./;

export type TailFormat = 'json' | 'text';

/**
 * A state machine's state as a name: `active`, `playing.turn` for a nested state, `a.x,b.y` for parallel regions;
 * undefined for an actor without states (a plain reducer's value is `{}`), so traces do not print `"from":{}`.
 */
export function stateName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
    const inner = stateName(v);
    return inner ? `${k}.${inner}` : k;
  });
  return parts.length ? parts.join(',') : undefined;
}

const iso = (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined);

/** A trace record (actors/runtime/trace.ts) with its time in ISO form and its states by name (none when stateless). */
function compactTrace(data: unknown): unknown {
  if (!data || typeof data !== 'object') return data;
  const { at, from, to, ...rest } = data as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  const f = stateName(from);
  const t = stateName(to);
  if (f !== undefined) out.from = f;
  if (t !== undefined) out.to = t;
  if (iso(at)) out.at = iso(at);
  return out;
}

/** One message as a JSON object: when it arrived (ISO), subject, reply and headers, and the decoded body. */
export function messageRecord(subject: string, data: Uint8Array, reply?: string, headers?: Record<string, string>, redactions?: Redactions, now = Date.now()): Record<string, unknown> {
  const line: Record<string, unknown> = { time: new Date(now).toISOString(), subject };
  if (reply) line.reply = reply;
  if (headers && Object.keys(headers).length) line.headers = headers;
  if (HANDOVER.test(subject)) {
    line.data = `[hand-over images: ${data.length} bytes, not shown]`;
    return line;
  }
  const fields = redactions && redactions.size ? redactions.get(parseActorSubject(subject)?.kind ?? '') : undefined;
  const body = redactFields(toJson(data), fields);
  line.data = TRACE.test(subject) ? compactTrace(body) : body;
  return line;
}

export function formatMessage(subject: string, data: Uint8Array, reply?: string, headers?: Record<string, string>, redactions?: Redactions): string {
  return JSON.stringify(messageRecord(subject, data, reply, headers, redactions));
}

const BODY_MAX = 400;
const compact = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > BODY_MAX ? `${s.slice(0, BODY_MAX)}… (${s.length} chars)` : s;
};

/**
 * The same record as one readable line: `TIME  trace chat-room/lobby  say  open → open  on n1`, or
 * `TIME  chat-room/lobby  ← {"type":"say",…}  from S #Q` for a message to an actor, else `TIME  subject  body`.
 */
export function textLine(rec: Record<string, unknown>): string {
  const { time, subject, data, reply } = rec as { time: string; subject: string; data: unknown; reply?: string };
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  if (TRACE.test(subject) && typeof d.event === 'string') {
    const states = d.from !== undefined || d.to !== undefined ? `  ${d.from ?? '-'} → ${d.to ?? '-'}` : '';
    return `${time}  trace ${d.kind}/${d.id}  ${d.event}${states}  on ${d.node}`;
  }
  const actor = parseActorSubject(subject);
  if (actor && 'm' in d) {
    const from = d.s !== undefined ? `  from ${d.s}${d.q !== undefined ? ` #${d.q}` : ''}` : '';
    return `${time}  ${actor.kind}/${actor.id}  ${reply ? 'ask' : 'tell'} ${compact(d.m)}${from}`;
  }
  return `${time}  ${subject}${reply ? ` (reply to ${reply})` : ''}  ${compact(data)}`;
}

/**
 * `onError` hears the bus's errors, so that a subscription the NATS server refuses (an ops user tailing `session.>`)
 * says so instead of printing nothing.
 */
export function tail(bus: Bus, pattern: string, out: (line: string) => void, redactions?: Redactions, onError?: (message: string) => void, format: TailFormat = 'json'): () => void {
  const offStatus = onError ? bus.onStatus((st) => st.type === 'error' && onError(st.error?.message ?? 'bus error')) : () => undefined;
  const sub = bus.subscribe(pattern, (m) => {
    const rec = messageRecord(m.subject, m.data, m.reply, m.headers, redactions);
    out(format === 'text' ? textLine(rec) : JSON.stringify(rec));
  });
  const stopTap = pattern.startsWith('trace.') || pattern === '>' ? announceTap(bus, pattern.startsWith('trace.') ? pattern : 'trace.>') : () => undefined;
  return () => {
    offStatus();
    stopTap();
    sub.unsubscribe();
  };
}
