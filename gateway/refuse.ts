/**
 * Refusing a socket at accept, before any connection state exists: the client still hears why, in its protocol. A
 * WebSocket close frame carries the close code itself; a native TCP client gets a `close` frame first; a Pomelo client
 * gets a kick (`{reason}`, what its `onKick` shows) before the close.
 */
import { encodeFrame, encodeTcp } from '../protocol/native/index.js';
import { encodeKick } from '../protocol/pomelo/index.js';
import type { Protocol } from './connection.js';
import type { Transport } from './transport.js';

export function refuseSocket(transport: Transport, proto: Protocol, code: number, reason: string): void {
  if (proto === 'pomelo') transport.send(encodeKick(reason));
  else if (transport.kind === 'tcp') transport.send(encodeTcp(encodeFrame({ type: 'close', code, reason })));
  transport.close(code, reason);
}
