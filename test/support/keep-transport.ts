/**
 * A gateway Transport without a socket for tests of the connection core: it keeps every frame sent to it, decoded
 * with the native codec, and comes from the address given (loopback by default).
 */
import type { Transport } from '../../gateway/transport.js';
import { decodeFrame, type Frame } from '../../protocol/native/index.js';

export class KeepTransport implements Transport {
  readonly kind = 'ws';
  readonly buffered = 0;
  readonly remote: string;
  readonly got: Frame[] = [];
  constructor(readonly address = '127.0.0.1') {
    this.remote = `${address}:1`;
  }
  send(bytes: Uint8Array): void {
    this.got.push(decodeFrame(bytes));
  }
  close(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}
