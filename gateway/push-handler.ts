/**
 * A gateway's push inbox (`gw.<node>.push`): what actors push to its connections. A message holds one GatewayPush
 * `{c: connIds, r: route, b: body}` or, from a worker batching its pushes (actors.pushTickMs,
 * actors/runtime/effect-sink.ts), an array of them, delivered in order. Each push encodes its frame once per protocol
 * (PushCache) for all its connections. A route starting with `$` is the gateway's own: `$close` kicks.
 *
 * On the memory bus the message carries them decoded (`BusMsg.value`, see effect-sink.ts) and nothing is decoded here.
 *
 * A message that does not decode, or a push that is not `{c: array, r: string}`, is dropped, logged at debug and
 * counted (`pushesMalformed`); the other pushes of its batch are still delivered.
 */
import type { Logger } from 'pino';
import type { GatewayPush } from '../actors/runtime/effect-sink.js';
import { CLOSE_ROUTE } from '../actors/connection/connection.js';
import type { BusMsg } from '../bus/bus.js';
import { decode } from '../bus/codec.js';
import { CloseCode } from '../protocol/error-codes.js';
import type { PushCache, ProtocolHandler } from './connection.js';
import type { GatewayMetrics } from './metrics.js';

/** What a push needs of a connection (gateway/connection.ts Connection). */
export interface PushTarget {
  readonly handler: Pick<ProtocolHandler, 'push'>;
  kick(code: number, reason: string): void;
}

export interface PushHandlerDeps {
  connection(id: string): PushTarget | undefined;
  metrics: Pick<GatewayMetrics, 'pushesMalformed'>;
  log: Logger;
}

export function createPushHandler(deps: PushHandlerDeps): (msg: BusMsg) => void {
  const { connection, metrics, log } = deps;

  const malformed = (why: string, err?: unknown) => {
    metrics.pushesMalformed++;
    log.debug({ err, why }, 'malformed gateway push dropped');
  };

  const deliver = (p: unknown) => {
    const push = p as GatewayPush | null;
    if (typeof push !== 'object' || push === null || !Array.isArray(push.c) || typeof push.r !== 'string') {
      malformed('expected {c: string[], r: string, b}');
      return;
    }
    if (push.r === CLOSE_ROUTE) {
      const b = (push.b ?? {}) as { code?: unknown; reason?: unknown };
      const code = Number.isInteger(b.code) ? (b.code as number) : CloseCode.Kicked;
      const reason = typeof b.reason === 'string' ? b.reason : 'kicked';
      for (const id of push.c) connection(id)?.kick(code, reason);
      return;
    }
    const cache: PushCache = {};
    for (const id of push.c) connection(id)?.handler.push(push.r, push.b, cache);
  };

  return (msg) => {
    // In-process (the memory bus) the worker's EffectSink hands over the decoded pushes, already copied on send.
    let v: unknown = msg.value;
    if (v === undefined) {
      try {
        v = decode(msg.data);
      } catch (err) {
        malformed('not MessagePack', err);
        return;
      }
    }
    if (!Array.isArray(v)) return deliver(v);
    if (v.length === 0) return malformed('empty batch');
    for (const p of v) deliver(p);
  };
}
