/**
 * What a client may learn about a failure: a stable code and a short message, never a stack. Runtime and bus codes
 * are translated to client codes (protocol/error-codes.ts); an app's own UPPER_SNAKE codes (`ROOM_FULL`) pass as
 * they are; anything else is INTERNAL, logged here with its cause and sent with a generic text.
 */
import type { Logger } from 'pino';
import { ErrorCode, type WireError } from '../common/errors.js';
import { ClientErrorCode, clientErrorText } from '../protocol/error-codes.js';
import { GatehouseError } from '../common/errors.js';

/**
 * A failure to report to one client request. Built without a stack trace: it is an answer (RATE_LIMITED, NOT_FOUND,
 * BAD_REQUEST...) that a hostile client can make the gateway build in a loop; an INTERNAL one is logged with its cause,
 * which keeps its own stack.
 */
export class ClientError extends GatehouseError {
  constructor(code: ClientErrorCode | string, message?: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(code, message ?? clientErrorText[code as ClientErrorCode] ?? code, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ClientError';
  }
}

const RUNTIME_TO_CLIENT: Readonly<Record<string, ClientErrorCode>> = {
  [ErrorCode.Timeout]: ClientErrorCode.Timeout,
  [ErrorCode.NoResponders]: ClientErrorCode.Unavailable,
  [ErrorCode.Closed]: ClientErrorCode.Unavailable,
  [ErrorCode.BusError]: ClientErrorCode.Unavailable,
  [ErrorCode.Busy]: ClientErrorCode.Unavailable,
  [ErrorCode.NotOwner]: ClientErrorCode.Unavailable,
  [ErrorCode.StoreError]: ClientErrorCode.Unavailable,
  // Not UNAVAILABLE: that one is retryable, and a client repeating a maybe-applied update could apply it twice.
  [ErrorCode.MaybeApplied]: ClientErrorCode.MaybeApplied,
  [ErrorCode.ActorStopped]: ClientErrorCode.Unavailable,
  [ErrorCode.BadMessage]: ClientErrorCode.BadRequest,
  [ErrorCode.Rejected]: ClientErrorCode.BadRequest,
};

/** Codes whose server-side message may say too much (actor names, library errors): the client gets the generic text. */
const OPAQUE = new Set<string>([
  ErrorCode.ActorFailed,
  ErrorCode.Encode,
  ErrorCode.Decode,
  ErrorCode.BusError,
  ErrorCode.StoreError,
  ErrorCode.Conflict,
  ErrorCode.UnknownKind,
  ErrorCode.BadSubject,
  ErrorCode.BadKey,
  ErrorCode.Config,
]);

const CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_MESSAGE = 1024;

export function toClientError(err: unknown, log?: Logger): WireError {
  const code = (err as { code?: unknown })?.code;
  if (err instanceof Error && typeof code === 'string') {
    const mapped = RUNTIME_TO_CLIENT[code];
    if (mapped) return { code: mapped, message: clip(err.message) };
    if (!OPAQUE.has(code) && CODE_RE.test(code)) return { code, message: clip(err.message) };
  }
  log?.warn({ err }, 'route failed with an internal error');
  return { code: ClientErrorCode.Internal, message: clientErrorText.INTERNAL };
}

function clip(s: string): string {
  return s.length <= MAX_MESSAGE ? s : s.slice(0, MAX_MESSAGE - 1) + '…';
}
