/**
 * Requests of one session that change where it stands (a room, a place in the lobby tree) run one after another on
 * its gateway, so a double click cannot interleave two moves, and what the session data remembers is written in the
 * order the change happened. Keyed by session id: a session is on one gateway at a time. Each app makes its own, so
 * one app's requests never wait for another's.
 */
import { KeyedChain } from '../common/keyed-chain.js';

export type SessionSerial = <T>(session: string, fn: () => Promise<T>) => Promise<T>;

export function sessionSerial(): SessionSerial {
  const chain = new KeyedChain();
  return (session, fn) => chain.run(session, fn);
}
