/** The `identity` actor kind: sharded and durable, one per logged-in identity (see identity.machine.ts). */
import { badMessage, defineKind } from '../runtime/kind.js';
import { identityMachine, type IdentityEvent } from './identity.machine.js';

export const IDENTITY_KIND = 'identity';
export { ALREADY_LOGGED_IN } from './identity.machine.js';

function toEvent(msg: unknown): IdentityEvent {
  const m = msg as Record<string, unknown> | null;
  const session = typeof m?.session === 'string' && m.session.length > 0;
  switch (m?.type) {
    case 'claim':
      if (!session || (m.mode !== 'refuse' && m.mode !== 'kick')) throw badMessage('claim needs session and mode refuse|kick');
      return { type: 'claim', session: m.session as string, mode: m.mode };
    case 'release':
      if (!session) throw badMessage('release needs session');
      return { type: 'release', session: m.session as string };
    case 'holder':
      return { type: 'holder' };
    default:
      throw badMessage('identity accepts claim, release, holder');
  }
}

export const identityKind = defineKind({
  name: IDENTITY_KIND,
  machine: identityMachine,
  persistence: 'snapshot',
  input: (id) => ({ id }),
  toEvent,
});
