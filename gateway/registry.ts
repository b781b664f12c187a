/**
 * Gateways announce themselves and their load in a store bucket with a TTL: a gateway that stops refreshing (crash,
 * kill -9) drops out by itself. The entry endpoint reads the bucket and hands out the least-loaded one. A read of the
 * whole bucket costs one `keys` plus one `get` per gateway, so answers are cached briefly: clients asking in a burst
 * all get the same gateway for that moment, which is fine at entry rates (load is spread by the next refresh).
 */
import type { Logger } from 'pino';
import { decode, encode } from '../bus/codec.js';
import type { KvBucket, Store } from '../bus/store.js';
import { encodeId } from '../bus/subjects.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ClientErrorCode } from '../protocol/error-codes.js';
import type { GatewayEntry } from '../node-api/gateway-app.js';
import type { Protocol } from './connection.js';
import { ClientError } from './errors.js';

export const GATEWAY_BUCKET = 'gateways';
const REFRESH_MS = 2000;
const TTL_MS = 3 * REFRESH_MS;
const CACHE_MS = 500;

/** What a gateway publishes about itself. */
export interface GatewayRecord {
  node: string;
  host: string;
  ports: { ws: number; tcp: number; pomeloWs: number; pomeloTcp: number; http: number };
  urls: Record<string, string>;
  load: number;
}

export interface GatewayRegistry {
  leastLoaded(protocol?: Protocol): Promise<GatewayEntry>;
  all(): Promise<GatewayRecord[]>;
  stop(): Promise<void>;
}

export async function startRegistry(o: {
  store: Store;
  clock: Clock;
  log: Logger;
  self: () => GatewayRecord;
}): Promise<GatewayRegistry> {
  const bucket: KvBucket = await o.store.bucket(GATEWAY_BUCKET, { ttlMs: TTL_MS });
  const key = encodeId(o.self().node);
  let timer: TimerHandle | undefined;
  let stopped = false;
  let cache: { at: number; records: GatewayRecord[] } | undefined;

  const publish = async () => {
    try {
      await bucket.put(key, encode(o.self()));
    } catch (err) {
      o.log.warn({ err }, 'gateway registry: refresh failed');
    }
  };
  const loop = () => {
    if (stopped) return;
    timer = o.clock.setTimeout(() => void publish().then(loop), REFRESH_MS);
  };
  await publish();
  loop();

  async function all(): Promise<GatewayRecord[]> {
    const now = o.clock.now();
    if (cache && now - cache.at < CACHE_MS) return cache.records;
    const records: GatewayRecord[] = [];
    for (const e of await bucket.entries()) {
      try {
        records.push(decode<GatewayRecord>(e.value));
      } catch (err) {
        o.log.debug({ err, key: e.key }, 'gateway registry: unreadable record skipped');
      }
    }
    cache = { at: now, records };
    return records;
  }

  return {
    all,
    async leastLoaded(protocol = 'native') {
      // With the store unreachable this gateway still knows one live gateway: itself.
      const records = await all().catch((err: unknown) => {
        o.log.warn({ err }, 'gateway registry unreadable; answering with this gateway');
        return [] as GatewayRecord[];
      });
      // This gateway's own record is always fresh; the others are at most one refresh old.
      const me = o.self();
      const list = records.filter((r) => r.node !== me.node).concat(me);
      let best = list[0];
      for (const r of list) if (best === undefined || r.load < best.load) best = r;
      if (!best) throw new ClientError(ClientErrorCode.Unavailable, 'no gateway registered');
      const port = protocol === 'pomelo' ? best.ports.pomeloWs : best.ports.ws;
      return { node: best.node, host: best.host, port, urls: best.urls, load: best.load };
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) o.clock.clearTimeout(timer);
      await bucket.delete(key).catch(() => undefined);
    },
  };
}
