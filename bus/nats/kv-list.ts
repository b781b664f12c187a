/**
 * The KV buckets of one deployment prefix on a NATS server: every JetStream stream named `KV_<prefix>_<bucket>`
 * (bus/subjects.ts bucketName). What `gatehouse export` walks, so it follows whatever buckets exist (one snapshot
 * bucket or several). One STREAM.NAMES request per page; nothing is created.
 */
import type { NatsConnection } from 'nats';
import { bucketName } from '../subjects.js';
import { translateNatsError } from './nats-errors.js';

export async function listNatsBuckets(connection: NatsConnection, prefix: string, timeoutMs = 5000): Promise<string[]> {
  const head = `KV_${bucketName(prefix, '')}`;
  const out: string[] = [];
  try {
    const jsm = await connection.jetstreamManager({ timeout: timeoutMs, checkAPI: false });
    for await (const name of jsm.streams.names()) if (name.startsWith(head)) out.push(name.slice(head.length));
  } catch (err) {
    throw translateNatsError(err, `listing the buckets of ${prefix}`);
  }
  return out.sort();
}
