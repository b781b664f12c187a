/**
 * Errors the SDK hands to applications: a stable `code` (protocol/error-codes.ts, or an application code such as
 * ROOM_FULL) and whether trying again later may work. Unknown codes are kept as they came (treat them as INTERNAL).
 */
import { ClientErrorCode, retryableCodes } from '../protocol/error-codes.js';

export { ClientErrorCode, CloseCode } from '../protocol/error-codes.js';

export class GatehouseClientError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'GatehouseClientError';
    this.code = code;
    this.retryable = retryableCodes.has(code);
  }
}

export const unavailable = (message: string) => new GatehouseClientError(ClientErrorCode.Unavailable, message);
export const timeout = (message: string) => new GatehouseClientError(ClientErrorCode.Timeout, message);
