/**
 * Errors an app's routes throw for clients. The gateway passes a GatehouseError's code and message to the client, so
 * an app's codes (ROOM_FULL, NOT_IN_ROOM...) are a contract with its clients: add, never rename.
 *
 * Built without a stack trace: these are answers, not failures (the gateway never logs them), and a client sending
 * bad requests in a loop would otherwise pay the server a stack capture for each.
 */
import { GatehouseError, withoutStack } from '../common/errors.js';
import { ClientErrorCode } from '../protocol/error-codes.js';

/** An error with one of the app's own codes. */
export function appError(code: string, message: string): GatehouseError {
  return withoutStack(() => new GatehouseError(code, message));
}

/** A request body the route refuses: BAD_REQUEST with the reason. */
export function badRequest(reason: string): GatehouseError {
  return withoutStack(() => new GatehouseError(ClientErrorCode.BadRequest, reason));
}
