/**
 * `gatehouse tail <pattern>`: subscribe and print every message on matching subjects as one JSON line each, MessagePack
 * bodies decoded (actor envelopes, replies, traces). Subscribing to trace subjects also announces a tap, so nodes
 * start publishing transitions for the matching actors.
 */
import type { Bus } from '../../bus/bus.js';
import { toJson } from '../../bus/codec.js';
import { announceTap } from '../../actors/runtime/trace.js';

export function formatMessage(subject: string, data: Uint8Array, reply?: string, headers?: Record<string, string>): string {
  const line: Record<string, unknown> = { subject };
  if (reply) line.reply = reply;
  if (headers && Object.keys(headers).length) line.headers = headers;
  line.data = toJson(data);
  return JSON.stringify(line);
}

export function tail(bus: Bus, pattern: string, out: (line: string) => void): () => void {
  const sub = bus.subscribe(pattern, (m) => out(formatMessage(m.subject, m.data, m.reply, m.headers)));
  const stopTap = pattern.startsWith('trace.') || pattern === '>' ? announceTap(bus, pattern.startsWith('trace.') ? pattern : 'trace.>') : () => undefined;
  return () => {
    stopTap();
    sub.unsubscribe();
  };
}
