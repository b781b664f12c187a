/**
 * Helpers of the native codec's unit tests: frames as hex and back, and the ProtocolError a call must throw.
 */
import { expect } from 'vitest';
import { ProtocolError } from '../../protocol/native/index.js';

export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** The ProtocolError `fn` throws; fails the test when it throws nothing or something else. */
export function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}
