/**
 * Named errors with stable codes. Codes are what crosses boundaries (bus replies, client frames, CLI exit messages);
 * messages are for humans; causes chain to the underlying library error, which only its own adapter module knows.
 */
export const ErrorCode = {
  // bus
  Timeout: 'TIMEOUT',
  NoResponders: 'NO_RESPONDERS',
  Closed: 'CLOSED',
  BusError: 'BUS_ERROR',
  BadSubject: 'BAD_SUBJECT',
  /** The NATS server refused this user a publish or subscribe (its permissions: `gatehouse nats-config`). */
  PermissionDenied: 'PERMISSION_DENIED',
  // store
  Conflict: 'CONFLICT',
  StoreError: 'STORE_ERROR',
  BadKey: 'BAD_KEY',
  StoreLocked: 'STORE_LOCKED',
  // codec
  Decode: 'DECODE',
  Encode: 'ENCODE',
  // config
  Config: 'CONFIG',
  // actors
  Busy: 'BUSY',
  ActorFailed: 'ACTOR_FAILED',
  ActorStopped: 'ACTOR_STOPPED',
  UnknownKind: 'UNKNOWN_KIND',
  BadMessage: 'BAD_MESSAGE',
  /** Not applied: the actor is not (or no longer) here. Always safe to send again. */
  NotOwner: 'NOT_OWNER',
  /** The update's durable write was sent and its outcome is unknown: it may have been applied. Not safe to resend. */
  MaybeApplied: 'MAYBE_APPLIED',
  Rejected: 'REJECTED',
  /** `gatehouse inspect` of an actor that does not exist (inspecting never creates one). */
  NotFound: 'NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GatehouseError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'GatehouseError';
  }
  /** The form that crosses a wire: never a stack. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export interface WireError {
  code: string;
  message: string;
}

export class TimeoutError extends GatehouseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Timeout, message, options);
    this.name = 'TimeoutError';
  }
}

export class NoRespondersError extends GatehouseError {
  constructor(subject: string, options?: { cause?: unknown }) {
    super(ErrorCode.NoResponders, `no responders on ${subject}`, options);
    this.name = 'NoRespondersError';
  }
}

export class ClosedError extends GatehouseError {
  constructor(message = 'connection closed', options?: { cause?: unknown }) {
    super(ErrorCode.Closed, message, options);
    this.name = 'ClosedError';
  }
}

export class ConflictError extends GatehouseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Conflict, message, options);
    this.name = 'ConflictError';
  }
}

/** Another live process holds the on-disk store's data directory (bus/lmdb/lock.ts). */
export class StoreLockedError extends GatehouseError {
  constructor(
    readonly path: string,
    readonly holderPid: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.StoreLocked, message, options);
    this.name = 'StoreLockedError';
  }
}

export class DecodeError extends GatehouseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Decode, message, options);
    this.name = 'DecodeError';
  }
}

export class ConfigError extends GatehouseError {
  /** Dotted path of every offending field, e.g. `nats.servers.0`. */
  readonly fields: string[];
  constructor(message: string, fields: string[], options?: { cause?: unknown }) {
    super(ErrorCode.Config, message, options);
    this.name = 'ConfigError';
    this.fields = fields;
  }
}

/**
 * Failures of the system itself (an actor crashed, bytes that do not encode, a broken store): rare, and logged where
 * they surface (the gateway logs them as INTERNAL), where the stack's awaiting chain says which route or actor asked.
 */
const STACK_KEPT = new Set<string>([
  ErrorCode.ActorFailed,
  ErrorCode.Encode,
  ErrorCode.Decode,
  ErrorCode.BusError,
  ErrorCode.StoreError,
  ErrorCode.UnknownKind,
  ErrorCode.BadSubject,
  ErrorCode.BadKey,
  ErrorCode.Config,
]);

/**
 * Rebuilds an error that crossed a wire, keeping its class, code and message. Refusals and timeouts (an app's
 * NOT_FOUND, TIMEOUT, NOT_OWNER, ...) come without a stack: one captured here shows the decode site and the awaiting
 * chain of a refusal nobody logs, and capturing it was most of the cost of an error reply (every unknown-id read
 * answers NOT_FOUND: 4.6% of the server's CPU under bench hostile's read flood); their `stack` is the header line
 * alone. Failures of the system (STACK_KEPT) keep theirs.
 */
export function fromWire(e: WireError): GatehouseError {
  return STACK_KEPT.has(e.code) ? build(e) : withoutStack(() => build(e));
}

function build(e: WireError): GatehouseError {
  switch (e.code) {
    case ErrorCode.Timeout:
      return new TimeoutError(e.message);
    case ErrorCode.NoResponders:
      return Object.assign(new GatehouseError(e.code, e.message), { name: 'NoRespondersError' });
    case ErrorCode.Conflict:
      return new ConflictError(e.message);
    default:
      return new GatehouseError(String(e.code), String(e.message));
  }
}

/**
 * Runs `make` with V8's stack capture off, for errors built in bulk whose stack would name only the place that
 * builds them (a decoder, a refusal every request can get). The error is otherwise whole: class, code, message,
 * name; `stack` is just its header line (`Name: message`), formatted when first read.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
