/** What the bus benchmark and its peers agree on: implementations, subjects, connections. */
import { connect, type NatsConnection } from 'nats';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';

export type OursBus = Bus & { readonly connection: NatsConnection };

export type Impl = 'raw' | 'ours';

/**
 * Absolute subject roots of equal length, so raw and ours put the same bytes on the wire: raw publishes to
 * `rawb.<subject>`, our bus is bound to prefix `ours` and publishes `<subject>`.
 */
export const RAW_ROOT = 'rawb';
export const OURS_PREFIX = 'ours';

export const tpSubject = (size: number) => `tp.s${size}`;
export const ACK_SUBJECT = 'tp.ack';
export const REQ_SUBJECT = 'rq';

export function connectRaw(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name });
}

export function connectOurs(url: string, name: string): Promise<OursBus> {
  return createNatsBus({ prefix: OURS_PREFIX, servers: [url], name });
}

/** Payload bytes that do not compress or repeat (nothing on this path compresses, but no one need wonder). */
export function payload(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}
