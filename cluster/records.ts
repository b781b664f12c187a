/** What the cluster keeps in the store: node records (membership), shard leases, the leader key, operator pins. */
import { decode, encode } from '../bus/codec.js';

export const BUCKETS = { nodes: 'nodes', cluster: 'cluster', leases: 'shards', pins: 'pins' } as const;
export const LEADER_KEY = 'leader';

export interface NodeRecord {
  id: string;
  roles: string[];
  capacity: number;
  draining: boolean;
  startedAt: number;
  pid: number;
  host: string;
  load: { actors: number; shards: number; msgsPerSec: number };
  /** Gateway addresses, when the node has the gateway role (filled by the gateway). */
  gateway?: Record<string, unknown>;
}

/**
 * A shard lease. Its store revision is the fencing token: every change is compare-and-set, so a balancer or node
 * acting on stale information fails instead of overwriting.
 */
export interface Lease {
  /** Owner node. While moving, still the old owner. */
  o: string;
  st: 'owned' | 'moving';
  /** Move target and id, while moving. */
  to?: string;
  mid?: string;
  /** When this state began (ms since epoch, for stuck-move detection). */
  t: number;
}

export const encodeRecord = (r: unknown): Uint8Array => encode(r);
export function decodeRecord<T>(bytes: Uint8Array): T {
  return decode<T>(bytes);
}
