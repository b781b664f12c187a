/**
 * Attachments: how a gateway ties each connection to its session. A connection starts with an anonymous session
 * that exists only in its attachment, on this gateway (nothing to resume), until the app logs in or stores data; then
 * the session becomes a `session` actor on a worker, durable, which any gateway can resume with the ticket and whose
 * grace timer runs whatever happens to this gateway. The attachment keeps this gateway's copy of the session's
 * identity and data, so route handlers read them without a bus hop.
 *
 * Ticket = `<session id>.<secret>`. The secret is random, lives in the session actor and is replaced on every resume,
 * so a ticket resumes once; the session id alone (which apps see and may log) resumes nothing.
 *
 * The attachments see a connection only through its ConnectionHandle: they never write the connection's fields, and
 * a socket that goes while its session is being resumed or made durable is handled here, in `lateEnd`.
 */
import type { Logger } from 'pino';
import type { ActorClient } from '../actors/runtime/client.js';
import type { ConnRef } from '../actors/runtime/effects.js';
import { connAddress } from '../actors/connection/connection.js';
import { SESSION_EXPIRED, SESSION_KIND } from '../actors/session/session.js';
import { HOOK_TIMEOUT_MS } from '../actors/session/session.machine.js';
import { IDENTITY_KIND } from '../actors/session/identity.js';
import { encode } from '../bus/codec.js';
import { ClientErrorCode } from '../protocol/error-codes.js';
import { ClientError } from './errors.js';
import type { SessionEndInfo } from './hooks.js';
import type { GatewaySettings } from './settings.js';
import { randomId } from './ids.js';
import type { Principal } from '../node-api/auth.js';

/**
 * Session data key of the principal, so it travels with the session (and survives a resume) without the session
 * actor knowing about it. Apps may not set keys starting with `$`.
 */
export const PRINCIPAL_KEY = '$principal';

/** A connection's attachment to its session. */
export interface Attachment {
  /** The session's id (what apps see as `ctx.session.id`). */
  readonly session: string;
  secret: string;
  identity?: string;
  data: Record<string, unknown>;
  /** Who the gateway authenticated the client as; kept with the session's data under PRINCIPAL_KEY. */
  principal?: Principal;
  /** True once the session actor holds the session. */
  durable: boolean;
  materializing?: Promise<void>;
}

/** What the attachments see and do of one connection. The connection implements it. */
export interface ConnectionHandle {
  /** The connection's address (its `conn` actor). */
  readonly ref: ConnRef;
  /** Set once the socket is gone: whether the session may be resumed, or ends with it. */
  readonly endedAs: 'resumable' | 'final' | undefined;
  /** The attachment the connection carries now (none before the handshake). */
  readonly attachment: Attachment | undefined;
  /** The connection carries `a` from now on. */
  attach(a: Attachment): void;
}

export interface Attachments {
  /** Attaches a fresh anonymous session to `h`. */
  anonymous(h: ConnectionHandle): Attachment;
  ticketOf(a: Attachment): string;
  /**
   * Resumes the ticket's session and attaches it to `h`; null when there is none to resume (unknown, expired, wrong
   * secret). Rejects with UNAVAILABLE when sessions are unreachable. `prev` is the connection it was attached to.
   * `principal` is who the gateway authenticated the resuming client as: with verified credentials (auth mode token
   * or hook) a session opened by an account resumes only for that same account, so a stolen ticket alone resumes
   * nothing (UNAUTHORIZED, close 4100), and the victim's session is left untouched (checked before the resume).
   */
  resume(h: ConnectionHandle, ticket: string, principal?: Principal): Promise<{ attachment: Attachment; prev?: ConnRef } | null>;
  /** Makes `h`'s session durable (a `session` actor). Idempotent; concurrent callers share one creation. */
  materialize(h: ConnectionHandle): Promise<void>;
  login(h: ConnectionHandle, identity: string): Promise<void>;
  set(h: ConnectionHandle, key: string, value: unknown): Promise<void>;
  /** Ends `h`'s session now (onSessionEnd runs) and attaches a fresh anonymous one. */
  logout(h: ConnectionHandle): Promise<void>;
  /** `h`'s socket is gone (called once, by the connection, after `endedAs` is set). */
  ended(h: ConnectionHandle): void;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{8,64}$/;
const MAX_IDENTITY = 128;
const token = () => randomId(16);
const sessionRef = (id: string) => ({ kind: SESSION_KIND, id });
const fresh = (): Attachment => ({ session: token(), secret: token(), data: {}, durable: false });

export function createAttachments(
  actors: ActorClient,
  settings: GatewaySettings,
  log: Logger,
  runEnd: (info: SessionEndInfo) => Promise<void>,
): Attachments {
  /** Tells the connection actor what session it carries now. */
  const announce = (h: ConnectionHandle): void => {
    const a = h.attachment!;
    actors.tell(connAddress(h.ref), { type: 'session', session: a.session, identity: a.identity, durable: a.durable });
  };

  /** An anonymous session ends with its connection: its hooks run here. */
  const endLocal = async (h: ConnectionHandle, a: Attachment): Promise<void> => {
    try {
      await runEnd({ session: a.session, identity: a.identity, conn: h.ref, data: a.data });
    } catch (err) {
      log.warn({ err, session: a.session }, 'session end hooks failed');
    }
  };

  /**
   * The socket went away while the session was being resumed or made durable: the connection actor had not learnt
   * the session was durable, so the session actor hears it from here; nobody else will tell it.
   */
  const lateEnd = (h: ConnectionHandle): void => {
    const a = h.attachment;
    if (!a?.durable || !h.endedAs) return;
    const msg = h.endedAs === 'resumable' ? { type: 'detach', conn: h.ref } : { type: 'end', conn: h.ref };
    actors.tell(sessionRef(a.session), msg);
  };

  /**
   * Before a resume with verified credentials: the session's account (kept under PRINCIPAL_KEY when it was opened)
   * must be the resuming client's. Asked with `info`, which changes nothing, so a refused resume neither rotates the
   * secret nor displaces the owner's connection. A session that was opened anonymously resumes only anonymously.
   * False: there is no such session (the resume would have found none either).
   */
  const checkOwner = async (id: string, principal: Principal | undefined): Promise<boolean> => {
    let info: { conn?: unknown; data?: Record<string, unknown> } | undefined;
    try {
      info = await actors.ask(sessionRef(id), { type: 'info' });
    } catch (err) {
      log.warn({ err, session: id }, 'resume failed: sessions unreachable');
      throw new ClientError(ClientErrorCode.Unavailable, 'sessions are unreachable; retry', { cause: err });
    }
    if (!info?.conn) return false; // never created, or gone: nothing to resume (a fresh session follows)
    const owner = (info.data?.[PRINCIPAL_KEY] as Principal | undefined)?.account;
    if (owner === principal?.account) return true;
    log.info({ session: id, owner, presented: principal?.account }, 'resume refused: the ticket belongs to another account');
    throw new ClientError(ClientErrorCode.Unauthorized, 'this session belongs to another account');
  };

  const materialize = (h: ConnectionHandle): Promise<void> => {
    const a = h.attachment!;
    if (a.durable) return Promise.resolve();
    a.materializing ??= actors
      .ask(sessionRef(a.session), {
        type: 'create',
        secret: a.secret,
        conn: h.ref,
        graceMs: settings.sessionGraceMs,
        checkMs: settings.sessionCheckMs,
        data: a.principal ? { ...a.data, [PRINCIPAL_KEY]: a.principal } : a.data,
      })
      .then(
        () => {
          a.durable = true;
          a.materializing = undefined;
          announce(h);
          lateEnd(h);
        },
        (err: unknown) => {
          a.materializing = undefined;
          throw err;
        },
      );
    return a.materializing;
  };

  return {
    anonymous(h) {
      const a = fresh();
      h.attach(a);
      return a;
    },

    ticketOf: (a) => `${a.session}.${a.secret}`,

    async resume(h, ticket, principal) {
      const dot = ticket.indexOf('.');
      const id = ticket.slice(0, dot);
      const secret = ticket.slice(dot + 1);
      if (dot < 0 || !TOKEN_RE.test(id) || !TOKEN_RE.test(secret)) return null;
      if (settings.auth.mode !== 'none' && !(await checkOwner(id, principal))) return null;
      const next = token();
      let r: { identity?: string; data?: Record<string, unknown>; prev?: ConnRef };
      try {
        r = await actors.ask(sessionRef(id), { type: 'resume', secret, next, conn: h.ref });
      } catch (err) {
        if ((err as { code?: string }).code === SESSION_EXPIRED) return null;
        // The session may well exist: do not hand out a new one, let the client retry with its ticket.
        log.warn({ err, session: id }, 'resume failed: sessions unreachable');
        throw new ClientError(ClientErrorCode.Unavailable, 'sessions are unreachable; retry', { cause: err });
      }
      const { [PRINCIPAL_KEY]: opened, ...data } = r.data ?? {};
      const attachment: Attachment = { session: id, secret: next, identity: r.identity ?? undefined, data, durable: true };
      // The credential just checked is the fresher statement of the same account (its claims may have changed).
      const who = principal ?? (opened as Principal | undefined);
      if (who) attachment.principal = who;
      h.attach(attachment);
      lateEnd(h);
      return { attachment, prev: r.prev ?? undefined };
    },

    materialize,

    async login(h, identity) {
      if (typeof identity !== 'string' || identity.length === 0 || identity.length > MAX_IDENTITY) {
        throw new ClientError(ClientErrorCode.BadRequest, `identity must be a string of 1..${MAX_IDENTITY} characters`);
      }
      const a = h.attachment!;
      if (a.identity === identity) return;
      if (a.identity !== undefined) {
        throw new ClientError(ClientErrorCode.AlreadyLoggedIn, `this session is logged in as ${a.identity}; log out first`);
      }
      await materialize(h);
      const mode = settings.duplicateLogin;
      await actors.ask({ kind: IDENTITY_KIND, id: identity }, { type: 'claim', session: a.session, mode });
      try {
        await actors.ask(sessionRef(a.session), { type: 'login', identity });
      } catch (err) {
        actors.tell({ kind: IDENTITY_KIND, id: identity }, { type: 'release', session: a.session });
        throw err;
      }
      a.identity = identity;
      announce(h);
    },

    async set(h, key, value) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 128 || key.startsWith('$')) {
        throw new ClientError(ClientErrorCode.BadRequest, 'session data keys are strings of 1..128 characters, not starting with $');
      }
      const size = encode(value ?? null).length;
      if (size > settings.maxFrameBytes) {
        throw new ClientError(ClientErrorCode.BadRequest, `session value ${key} is ${size} bytes; the limit is ${settings.maxFrameBytes}`);
      }
      const a = h.attachment!;
      if (a.durable) {
        await actors.ask(sessionRef(a.session), { type: 'set', key, value });
        a.data[key] = value;
        return;
      }
      // Not yet durable: the value travels with the creation.
      const before = a.data;
      a.data = { ...before, [key]: value };
      try {
        await materialize(h);
      } catch (err) {
        a.data = before;
        throw err;
      }
    },

    async logout(h) {
      const a = h.attachment!;
      if (a.materializing) await a.materializing.catch(() => undefined);
      if (a.durable) {
        await actors.ask(sessionRef(a.session), { type: 'end', conn: h.ref }, { timeoutMs: HOOK_TIMEOUT_MS + settings.requestTimeoutMs });
      } else {
        await endLocal(h, a);
      }
      // The client logged out of its session, not out of its credential: the next session keeps the principal.
      const next = fresh();
      if (a.principal) next.principal = a.principal;
      h.attach(next);
      announce(h);
    },

    ended(h) {
      // A durable session hears it from the connection actor (or from lateEnd, when that actor could not know).
      const a = h.attachment;
      if (a && !a.durable && !a.materializing) void endLocal(h, a);
    },
  };
}
