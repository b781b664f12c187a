/**
 * The raw request floor: the least a request over nats.js can cost. One publish with a reply subject, one wildcard
 * inbox subscription for all replies, a Map from token to resolver, nothing else: no per-request timer, no headers,
 * no status handling. Measured here it beats `nc.request()` (a timer and a mux entry per call) by ~20 µs, so any
 * request layer of ours is compared with this, not with `nc.request()`.
 *
 * Benchmarks are the one place outside bus/nats/ that imports 'nats': the baseline has to be raw nats.js.
 */
import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection } from 'nats';

export interface RawFloor {
  request(subject: string, data: Uint8Array): Promise<Msg>;
  readonly inFlight: number;
  close(): void;
}

/** `inboxRoot` sets the inbox subject root, e.g. `<prefix>._INBOX`, so its length matches the bus under test. */
export function createRawFloor(nc: NatsConnection, inboxRoot: string): RawFloor {
  // 12 characters, like the bus's inbox id, so both put the same bytes on the wire.
  const base = `${inboxRoot}.${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
  const skip = base.length + 1;
  const pending = new Map<string, (m: Msg) => void>();
  let next = 0;
  const sub = nc.subscribe(`${base}.*`, {
    callback: (_err, m) => {
      const token = m.subject.slice(skip);
      const resolve = pending.get(token);
      if (resolve) {
        pending.delete(token);
        resolve(m);
      }
    },
  });
  return {
    request(subject, data) {
      const token = (next++).toString(36);
      return new Promise<Msg>((resolve) => {
        pending.set(token, resolve);
        nc.publish(subject, data, { reply: `${base}.${token}` });
      });
    },
    get inFlight() {
      return pending.size;
    },
    close() {
      sub.unsubscribe();
      pending.clear();
    },
  };
}
