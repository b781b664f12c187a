/**
 * Asking again when an answer proves the actor never saw the message: nobody owned its shard at that instant (a node
 * just died, or the cluster is still placing shards), the asked node had just handed the shard over, or the actor's
 * mailbox was full. Sending again is always safe then, so callers at the edge (gateway routes) do, a few times over
 * about two and a half seconds, before the error goes to the client: a killed worker's shards are taken over 1.5-1.9 s
 * after the kill with the default liveness settings (deadAfterMs 1.5 s plus the leader's lease writes), so a request
 * sent just after a kill rides through it instead of failing just before the new owner is there. Timeouts are not
 * retried: the actor may have applied the message.
 */
import { ErrorCode, type GatehouseError } from '../../common/errors.js';
import type { ActorClient } from './client.js';
import type { Address } from './effects.js';

const NOT_DELIVERED: ReadonlySet<string> = new Set([ErrorCode.NoResponders, ErrorCode.NotOwner, ErrorCode.Busy]);
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

export function notDelivered(err: unknown): boolean {
  return NOT_DELIVERED.has((err as GatehouseError)?.code);
}

/**
 * `actors.ask`, repeated while the answer says "not delivered". The first attempt starts before any await, so asks
 * of one caller reach the actor in the order they were made (a retried one can overtake a later one, only in those
 * moments, never in a planned move).
 */
export async function askDelivered<T>(actors: Pick<ActorClient, 'ask'>, to: Address, msg: unknown, timeoutMs?: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await actors.ask<T>(to, msg, timeoutMs ? { timeoutMs } : undefined);
    } catch (err) {
      if (!notDelivered(err) || attempt >= RETRY_DELAYS_MS.length) throw err;
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}
