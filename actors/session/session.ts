/**
 * The `session` actor kind (sharded, durable: every acknowledged change is in the store before the reply) and the
 * checks that keep malformed messages away from the machine.
 */
import { badMessage, defineKind } from '../runtime/kind.js';
import type { ConnRef } from '../runtime/effects.js';
import { sessionMachine, type SessionEvent } from './session.machine.js';

export const SESSION_KIND = 'session';
export { SESSION_EXPIRED, type SessionEvent } from './session.machine.js';

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isConn = (v: unknown): v is ConnRef => !!v && typeof v === 'object' && str((v as ConnRef).gw) && str((v as ConnRef).id);
const ms = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

function toEvent(msg: unknown): SessionEvent {
  const m = msg as Record<string, unknown> | null;
  const need = (ok: boolean, what: string) => {
    if (!ok) throw badMessage(`session ${String(m?.type)}: ${what}`);
  };
  switch (m?.type) {
    case 'create':
      need(str(m.secret) && isConn(m.conn) && ms(m.graceMs) && ms(m.checkMs), 'needs secret, conn, graceMs, checkMs');
      need(m.data === undefined || (typeof m.data === 'object' && m.data !== null && !Array.isArray(m.data)), 'data must be an object');
      break;
    case 'resume':
      need(str(m.secret) && str(m.next) && isConn(m.conn), 'needs secret, next, conn');
      break;
    case 'detach':
      need(isConn(m.conn), 'needs conn');
      break;
    case 'end':
      need(m.conn === undefined || isConn(m.conn), 'conn must be a ConnRef');
      break;
    case 'login':
    case 'kicked':
    case 'holds':
      need(str(m.identity), 'needs identity');
      break;
    case 'set':
      need(str(m.key), 'needs key');
      break;
    case 'info':
      break;
    default:
      throw badMessage('session accepts create, resume, detach, end, login, set, kicked, holds, info');
  }
  return m as SessionEvent;
}

export const sessionKind = defineKind({
  name: SESSION_KIND,
  machine: sessionMachine,
  persistence: 'snapshot',
  input: (id) => ({ id }),
  toEvent,
  // The ticket secret (context `secret`; `secret` and `next` of create/resume messages): whoever reads it can resume
  // the session, so `$inspect` and `gatehouse tail` never show it (test/security/redaction.test.ts).
  redact: ['secret', 'next'],
});
