/**
 * `gatehouse tail <pattern>`: subscribe and print every message on matching subjects as one JSON line each, MessagePack
 * bodies decoded (actor envelopes, replies, traces). Subscribing to trace subjects also announces a tap, so nodes
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

export function formatMessage(subject: string, data: Uint8Array, reply?: string, headers?: Record<string, string>, redactions?: Redactions): string {
  const line: Record<string, unknown> = { subject };
  if (reply) line.reply = reply;
  if (headers && Object.keys(headers).length) line.headers = headers;
  if (HANDOVER.test(subject)) {
    line.data = `[hand-over images: ${data.length} bytes, not shown]`;
    return JSON.stringify(line);
  }
  const fields = redactions && redactions.size ? redactions.get(parseActorSubject(subject)?.kind ?? '') : undefined;
  line.data = redactFields(toJson(data), fields);
  return JSON.stringify(line);
}

/**
 * `onError` hears the bus's errors, so that a subscription the NATS server refuses (an ops user tailing `session.>`)
 * says so instead of printing nothing.
 */
export function tail(bus: Bus, pattern: string, out: (line: string) => void, redactions?: Redactions, onError?: (message: string) => void): () => void {
  const offStatus = onError ? bus.onStatus((st) => st.type === 'error' && onError(st.error?.message ?? 'bus error')) : () => undefined;
  const sub = bus.subscribe(pattern, (m) => out(formatMessage(m.subject, m.data, m.reply, m.headers, redactions)));
  const stopTap = pattern.startsWith('trace.') || pattern === '>' ? announceTap(bus, pattern.startsWith('trace.') ? pattern : 'trace.>') : () => undefined;
  return () => {
    offStatus();
    stopTap();
    sub.unsubscribe();
  };
}
