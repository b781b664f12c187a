/**
 * The `conn` actor kind: one per client connection, pinned to its gateway node. Messages from other actors are
 * checked here (a push needs a route, a kick a numeric code) so the machine only sees well-formed events.
 */
import { badMessage, defineKind } from '../runtime/kind.js';
import type { ConnRef } from '../runtime/effects.js';
import { connectionMachine, type ConnEvent } from './connection.machine.js';

export const CONN_KIND = 'conn';

export { CLOSE_ROUTE, type ConnInput, type ConnEvent } from './connection.machine.js';

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function toEvent(msg: unknown): ConnEvent {
  const m = msg as Record<string, unknown> | null;
  switch (m?.type) {
    case 'open':
    case 'session':
      if (!str(m.session) || typeof m.durable !== 'boolean') throw badMessage(`${m.type} needs session and durable`);
      if (m.identity !== undefined && !str(m.identity)) throw badMessage('identity must be a string');
      return m as ConnEvent;
    case 'push':
      if (!str(m.route) || m.route.startsWith('$')) throw badMessage('push needs a route (not starting with $)');
      return { type: 'push', route: m.route, body: m.body };
    case 'kick':
      if (m.code !== undefined && (!Number.isInteger(m.code) || (m.code as number) < 4000 || (m.code as number) > 4999)) {
        throw badMessage('kick.code must be a close code 4000..4999');
      }
      if (m.reason !== undefined && typeof m.reason !== 'string') throw badMessage('kick.reason must be a string');
      return m as ConnEvent;
    case 'closed':
      if (typeof m.resumable !== 'boolean') throw badMessage('closed needs resumable');
      return m as ConnEvent;
    case 'ping':
    case 'info':
      return { type: m.type };
    default:
      throw badMessage('conn accepts open, session, push, kick, closed, ping, info');
  }
}

export const connKind = defineKind({
  name: CONN_KIND,
  machine: connectionMachine,
  placement: 'pinned',
  persistence: 'none',
  toEvent,
});

/** The address of a connection's actor, for `tell`/`ask`: `{kind: 'conn', id, node: gw}`. */
export function connAddress(c: ConnRef): { kind: string; id: string; node: string } {
  return { kind: CONN_KIND, id: c.id, node: c.gw };
}
