/**
 * Sessions as the gateway handles them. A new session exists only on its gateway (anonymous: nothing to resume)
 * until the app logs in or stores data; then it becomes a `session` actor on a worker, durable, which any gateway
 * can resume with the ticket and whose grace timer runs whatever happens to this gateway.
 *
 * Ticket = `<session id>.<secret>`. The secret is random, lives in the session actor and is replaced on every resume,
 * so a ticket resumes once; the session id alone (which apps see and may log) resumes nothing.
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
import type { Connection } from './connection.js';
import type { SessionEndInfo } from './hooks.js';
import type { GatewaySettings } from './settings.js';
import { randomId } from './ids.js';

export interface LocalSession {
  id: string;
  secret: string;
  identity?: string;
  data: Record<string, unknown>;
  /** True once the session actor holds it. */
  durable: boolean;
  materializing?: Promise<void>;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{8,64}$/;
const MAX_IDENTITY = 128;
const token = () => randomId(16);
const sessionRef = (id: string) => ({ kind: SESSION_KIND, id });

export class SessionService {
  constructor(
    private readonly actors: ActorClient,
    private readonly settings: GatewaySettings,
    private readonly log: Logger,
    private readonly runEnd: (info: SessionEndInfo) => Promise<void>,
  ) {}

  fresh(): LocalSession {
    return { id: token(), secret: token(), data: {}, durable: false };
  }

  ticketOf(s: LocalSession): string {
    return `${s.id}.${s.secret}`;
  }

  /** The ticket's session, reattached to `c`; null when there is none to resume (unknown, expired, wrong secret). */
  async resume(c: Connection, ticket: string): Promise<{ session: LocalSession; prev?: ConnRef } | null> {
    const dot = ticket.indexOf('.');
    const id = ticket.slice(0, dot);
    const secret = ticket.slice(dot + 1);
    if (dot < 0 || !TOKEN_RE.test(id) || !TOKEN_RE.test(secret)) return null;
    const next = token();
    let r: { identity?: string; data?: Record<string, unknown>; prev?: ConnRef };
    try {
      r = await this.actors.ask(sessionRef(id), { type: 'resume', secret, next, conn: c.ref });
    } catch (err) {
      if ((err as { code?: string }).code === SESSION_EXPIRED) return null;
      // The session may well exist: do not hand out a new one, let the client retry with its ticket.
      this.log.warn({ err, session: id }, 'resume failed: sessions unreachable');
      throw new ClientError(ClientErrorCode.Unavailable, 'sessions are unreachable; retry', { cause: err });
    }
    const session: LocalSession = { id, secret: next, identity: r.identity ?? undefined, data: r.data ?? {}, durable: true };
    return { session, prev: r.prev ?? undefined };
  }

  /** Makes the session durable (a `session` actor). Idempotent; concurrent callers share one creation. */
  materialize(c: Connection): Promise<void> {
    const s = c.session!;
    if (s.durable) return Promise.resolve();
    s.materializing ??= this.actors
      .ask(sessionRef(s.id), {
        type: 'create',
        secret: s.secret,
        conn: c.ref,
        graceMs: this.settings.sessionGraceMs,
        checkMs: this.settings.sessionCheckMs,
        data: s.data,
      })
      .then(
        () => {
          s.durable = true;
          s.materializing = undefined;
          this.announce(c);
          // The socket went away while the actor was being created: the actor must hear it, nobody else will tell it.
          if (c.endedAs) this.connectionGone(c);
        },
        (err: unknown) => {
          s.materializing = undefined;
          throw err;
        },
      );
    return s.materializing;
  }

  async login(c: Connection, identity: string): Promise<void> {
    if (typeof identity !== 'string' || identity.length === 0 || identity.length > MAX_IDENTITY) {
      throw new ClientError(ClientErrorCode.BadRequest, `identity must be a string of 1..${MAX_IDENTITY} characters`);
    }
    const s = c.session!;
    if (s.identity === identity) return;
    if (s.identity !== undefined) {
      throw new ClientError(ClientErrorCode.AlreadyLoggedIn, `this session is logged in as ${s.identity}; log out first`);
    }
    await this.materialize(c);
    const mode = this.settings.duplicateLogin;
    await this.actors.ask({ kind: IDENTITY_KIND, id: identity }, { type: 'claim', session: s.id, mode });
    try {
      await this.actors.ask(sessionRef(s.id), { type: 'login', identity });
    } catch (err) {
      this.actors.tell({ kind: IDENTITY_KIND, id: identity }, { type: 'release', session: s.id });
      throw err;
    }
    s.identity = identity;
    this.announce(c);
  }

  async set(c: Connection, key: string, value: unknown): Promise<void> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 128) {
      throw new ClientError(ClientErrorCode.BadRequest, 'session data keys are strings of 1..128 characters');
    }
    const size = encode(value ?? null).length;
    if (size > this.settings.maxFrameBytes) {
      throw new ClientError(ClientErrorCode.BadRequest, `session value ${key} is ${size} bytes; the limit is ${this.settings.maxFrameBytes}`);
    }
    const s = c.session!;
    if (s.durable) {
      await this.actors.ask(sessionRef(s.id), { type: 'set', key, value });
      s.data[key] = value;
      return;
    }
    // Not yet durable: the value travels with the creation.
    const before = s.data;
    s.data = { ...before, [key]: value };
    try {
      await this.materialize(c);
    } catch (err) {
      s.data = before;
      throw err;
    }
  }

  /** Ends the session now (onSessionEnd runs) and gives the connection a fresh anonymous one. */
  async logout(c: Connection): Promise<void> {
    const s = c.session!;
    if (s.materializing) await s.materializing.catch(() => undefined);
    if (s.durable) {
      await this.actors.ask(sessionRef(s.id), { type: 'end', conn: c.ref }, { timeoutMs: HOOK_TIMEOUT_MS + this.settings.requestTimeoutMs });
    } else {
      await this.endLocal(c, s);
    }
    c.session = this.fresh();
    this.announce(c);
  }

  /** An anonymous session ends with its connection: its hooks run here. */
  async endLocal(c: Connection, s: LocalSession): Promise<void> {
    try {
      await this.runEnd({ session: s.id, identity: s.identity, conn: c.ref, data: s.data });
    } catch (err) {
      this.log.warn({ err, session: s.id }, 'session end hooks failed');
    }
  }

  /**
   * Tells a durable session that its connection is gone, for the cases the connection actor cannot (it had not
   * learnt the session was durable before the socket closed).
   */
  connectionGone(c: Connection): void {
    const s = c.session;
    if (!s?.durable || !c.endedAs) return;
    const msg = c.endedAs === 'resumable' ? { type: 'detach', conn: c.ref } : { type: 'end', conn: c.ref };
    this.actors.tell(sessionRef(s.id), msg);
  }

  /** Tells the connection actor what session it carries now. */
  private announce(c: Connection): void {
    const s = c.session!;
    this.actors.tell(connAddress(c.ref), { type: 'session', session: s.id, identity: s.identity, durable: s.durable });
  }
}
