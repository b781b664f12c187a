/**
 * How an app's route handlers and session hooks ask an actor: `actors.ask`, asked again while the answer proves the
 * actor never saw the message (see actors/runtime/redeliver.ts). Shared by chat and lobby, which may not import
 * each other.
 */
import type { ActorClient } from '../actors/runtime/client.js';
import type { Address } from '../actors/runtime/effects.js';
import { askDelivered } from '../actors/runtime/redeliver.js';

export function askActor<T>(ctx: { readonly actors: ActorClient }, to: Address, msg: unknown, timeoutMs?: number): Promise<T> {
  return askDelivered<T>(ctx.actors, to, msg, timeoutMs);
}
