/**
 * The only place that knows nats.js error shapes. Everything leaving bus/nats/ is a GatehouseError with a stable code
 * and the original error as `cause`.
 */
import {
  ClosedError,
  ConflictError,
  ErrorCode,
  GatehouseError,
  NoRespondersError,
  TimeoutError,
} from '../../common/errors.js';

interface NatsLikeError {
  code?: string;
  message?: string;
  permissionContext?: { operation?: string; subject?: string };
  api_error?: { err_code?: number; code?: number; description?: string };
}

/** JetStream "wrong last sequence": create on an existing key, update/delete with a stale revision. */
const JS_WRONG_LAST_SEQUENCE = 10071;

export function translateNatsError(err: unknown, what: string): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const e = (err ?? {}) as NatsLikeError;
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'TIMEOUT':
      return new TimeoutError(`${what}: timed out`, { cause: err });
    case '503':
      return new NoRespondersError(what, { cause: err });
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DRAINING':
      return new ClosedError(`${what}: connection closed`, { cause: err });
    case 'BAD_SUBJECT':
      return new GatehouseError(ErrorCode.BadSubject, `${what}: bad subject`, { cause: err });
    case 'PERMISSIONS_VIOLATION': {
      const p = e.permissionContext;
      const verb = p?.operation === 'subscription' ? 'subscribe' : p?.operation;
      const where = verb && p?.subject ? `: this NATS user may not ${verb} to ${p.subject}` : `: ${msg}`;
      return new GatehouseError(ErrorCode.PermissionDenied, `${what}${where}`, { cause: err });
    }
  }
  if (e.api_error?.err_code === JS_WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(msg)) {
    return new ConflictError(`${what}: revision conflict`, { cause: err });
  }
  if (e.api_error) {
    return new GatehouseError(ErrorCode.StoreError, `${what}: ${e.api_error.description ?? msg}`, { cause: err });
  }
  return new GatehouseError(ErrorCode.BusError, `${what}: ${msg}`, { cause: err });
}
