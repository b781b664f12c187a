/**
 * Session-end hooks, run by any gateway. A durable session ends on a worker (logout, grace period over, kicked), but
 * apps' onSessionEnd hooks live with the gateway apps, so the session actor asks `gw.@any.<session>` (the address
 * `{kind: 'gw', node: 'any', id}`), a queue group every gateway joins: exactly one gateway runs the hooks and
 * answers; with none up, the session retries later. Hooks may therefore run more than once (a reply lost after they
 * ran): apps keep them idempotent (leave a room you are not in: no-op).
 */
import type { Logger } from 'pino';
import type { ActorClient } from '../actors/runtime/client.js';
import type { ConnRef } from '../actors/runtime/effects.js';
import { decodeEnvelope, encodeReply } from '../actors/runtime/envelope.js';
import type { Bus, BusMsg, Subscription } from '../bus/bus.js';
import { subjects } from '../bus/subjects.js';
import type { SessionEndContext } from '../node-api/gateway-app.js';
import type { RouteTable } from './routes.js';

export interface SessionEndInfo {
  session: string;
  identity?: string;
  conn?: ConnRef;
  data: Record<string, unknown>;
}

/** Runs every app's onSessionEnd; one app's failure is logged and does not stop the others. */
export async function runSessionEnd(routes: RouteTable, actors: ActorClient, log: Logger, info: SessionEndInfo): Promise<void> {
  const data = info.data ?? {};
  const ctx: SessionEndContext = {
    session: { id: info.session, conn: info.conn ?? { gw: '', id: '' }, identity: info.identity ?? undefined },
    actors,
    log,
    get: <T>(key: string) => data[key] as T | undefined,
  };
  for (const { name, gateway } of routes.apps) {
    if (!gateway.onSessionEnd) continue;
    try {
      await gateway.onSessionEnd(ctx);
    } catch (err) {
      log.warn({ err, app: name, session: info.session }, 'onSessionEnd failed');
    }
  }
}

/** The queue subscription that serves session actors' `session-end` asks. */
export function startHookService(bus: Bus, routes: RouteTable, actors: ActorClient, log: Logger): Subscription {
  const reply = (msg: BusMsg, ok: boolean, message?: string) => {
    if (!msg.reply) return;
    try {
      bus.respond(msg, encodeReply(ok ? { ok: true, v: true } : { ok: false, e: { code: 'BAD_MESSAGE', message: message ?? '' } }));
    } catch (err) {
      // The gateway stopped while the hooks ran (its bus is closed). The session hears nothing and asks again later:
      // hooks run at least once (docs/ARCHITECTURE.md). Thrown from the `.then` below, this was an unhandled
      // rejection, which ends a Node process.
      log.info({ err, subject: msg.subject }, 'session-end answer not sent: the bus is closed');
    }
  };
  return bus.subscribe(
    subjects.pinnedAll('gw', 'any'),
    (msg) => {
      let info: SessionEndInfo;
      try {
        const m = decodeEnvelope(msg.data).m as { type?: unknown } & SessionEndInfo;
        if (m?.type !== 'session-end' || typeof m.session !== 'string') throw new Error('expected session-end');
        info = m;
      } catch (err) {
        reply(msg, false, (err as Error).message);
        return;
      }
      void runSessionEnd(routes, actors, log, info).then(() => reply(msg, true));
    },
    { queue: 'gw' },
  );
}
