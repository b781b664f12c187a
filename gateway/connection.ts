/**
 * The transport-neutral connection core: one per socket, whatever the protocol. A protocol handler (native or Pomelo)
 * turns bytes into hello / request / close and calls in here; this core owns what every protocol shares: its session
 * (kept by the gateway's attachments, attachments.ts, which see the connection as a ConnectionHandle), routing with a
 * rate limit and a timeout, the outbound byte limit, and the connection actor's lifecycle.
 *
 * Kept small on purpose (a gateway holds tens of thousands): no per-connection logger, one timer per connection (the
 * protocol handler's RulesDriver arms it for the rules' deadline), the route context allocated on the first request.
 */
import type { Logger } from 'pino';
import type { ActorClient } from '../actors/runtime/client.js';
import type { ConnRef } from '../actors/runtime/effects.js';
import { connAddress } from '../actors/connection/connection.js';
import type { Clock } from '../common/clock.js';
import type { WireError } from '../common/errors.js';
import { ClientErrorCode, CloseCode } from '../protocol/error-codes.js';
import type { GatewayEntry, RouteContext, RouteHandler } from '../node-api/gateway-app.js';
import { toClientError } from './errors.js';
import { RATE_LIMITED, routeCallsOf, type RouteReply } from './route-calls.js';

export type { RouteReply } from './route-calls.js';
import type { RouteTable } from './routes.js';
import type { Attachment, Attachments, ConnectionHandle } from './attachments.js';
import type { GatewaySettings } from './settings.js';
import type { Transport } from './transport.js';
import { randomId } from './ids.js';
import type { GatewayMetrics } from './metrics.js';
import type { Admission } from './admission.js';
import type { Authenticator } from './auth/authenticator.js';

/** Where a notify's outcome goes: nowhere (route-calls still counts its failures and keeps its deadline). */
const UNANSWERED: RouteReply = { answer: () => undefined };

export type Protocol = 'native' | 'pomelo';

/** What every connection of one gateway shares. */
export interface GatewayServices {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly actors: ActorClient;
  readonly routes: RouteTable;
  readonly attachments: Attachments;
  readonly settings: GatewaySettings;
  readonly metrics: GatewayMetrics;
  /** Connections per address, each address's shared request budget and its requests in flight (admission.ts). */
  readonly admission: Pick<Admission, 'takeRequest' | 'defer' | 'finish' | 'inFlightFull'>;
  /** Checks credentials before a session opens (gateway/auth/authenticator.ts). */
  readonly auth: Authenticator;
  entry(protocol?: Protocol): Promise<GatewayEntry>;
  /** The transport is gone: drop the connection from the gateway's table. */
  forget(conn: Connection): void;
}

/** Per-push encodings, filled lazily by the first connection that needs each: a fan-out encodes once. */
export interface PushCache {
  native?: Uint8Array | null;
  nativeTcp?: Uint8Array;
  json?: Uint8Array | null;
}

/** One protocol's side of a connection. */
export interface ProtocolHandler {
  receive(bytes: Uint8Array, binary: boolean): void;
  /** The transport refused a message over the size limit before reading it (WebSocket maxPayload). */
  oversized(): void;
  push(route: string, body: unknown, cache: PushCache): void;
  /** A server decision (kick, slow consumer, shutdown): close with this close code. */
  close(code: number, reason: string): void;
  transportClosed(): void;
}

export interface Welcome {
  session: string;
  ticket: string;
  resumed: boolean;
}

export class Connection implements ConnectionHandle {
  readonly id = randomId(9);
  readonly ref: ConnRef;
  /** The peer's address when accepted (a closed socket may no longer know it): what admission released counts. */
  readonly address: string;
  handler!: ProtocolHandler;
  private current: Attachment | undefined;
  private ending: 'resumable' | 'final' | undefined;
  private tokens: number;
  private refilledAt: number;
  /** Sustained-flood bucket: refused requests pour in, it drains at floodRefusalsPerSecond (see request()). */
  private flood = 0;
  private floodAt: number;
  private slow = false;
  private ctx: RouteContext | undefined;
  /**
   * This connection's requests admission let start and that have not finished: each is given back once, by
   * `finished` when it settles or times out, or all together when the connection ends (whatever settles after that
   * gives back nothing).
   */
  private active = 0;

  constructor(
    readonly gw: GatewayServices,
    readonly transport: Transport,
    readonly proto: Protocol,
  ) {
    this.ref = { gw: gw.nodeId, id: this.id };
    this.address = transport.address;
    this.tokens = gw.settings.requestBurst;
    this.refilledAt = gw.clock.now();
    this.floodAt = this.refilledAt;
  }

  /** Its session, as the gateway's attachments keep it (none before the handshake). */
  get attachment(): Attachment | undefined {
    return this.current;
  }

  /** Set when the transport is gone; also tells a late login what the session should hear. */
  get endedAs(): 'resumable' | 'final' | undefined {
    return this.ending;
  }

  /** Called by the attachments only: the session this connection carries from now on. */
  attach(a: Attachment): void {
    this.current = a;
  }

  /** Writes bytes; a client that lets more than the outbound limit pile up is closed (SLOW_CONSUMER). */
  write(bytes: Uint8Array): void {
    this.transport.send(bytes);
    if (!this.slow && this.transport.buffered > this.gw.settings.outboundLimitBytes) {
      this.slow = true;
      this.gw.metrics.slowConsumers++;
      this.gw.log.info({ conn: this.id, buffered: this.transport.buffered }, 'slow consumer: closing');
      this.handler.close(CloseCode.SlowConsumer, 'client reads too slowly');
    }
  }

  /**
   * The handshake (native hello, Pomelo handshake): the credential is checked first (UNAUTHORIZED: close 4100), then
   * the ticket's session resumes when it can (only for the account that opened it), else a new one carries the
   * principal. Rejects otherwise only when sessions are unreachable.
   */
  async hello(ticket: string | undefined, credential?: string): Promise<Welcome> {
    const principal = await this.gw.auth.authenticate(credential, { protocol: this.proto, remoteAddress: this.address, node: this.gw.nodeId });
    if (ticket !== undefined) {
      const r = await this.gw.attachments.resume(this, ticket, principal);
      if (r) {
        this.gw.metrics.resumes++;
        await this.runResumeHooks(r.prev);
        return { session: r.attachment.session, ticket: this.gw.attachments.ticketOf(r.attachment), resumed: true };
      }
    }
    const w = this.anonymous();
    this.current!.principal = principal;
    return w;
  }

  /** A fresh session that exists only here until the app logs in or stores data (Pomelo clients always start so). */
  anonymous(): Welcome {
    const a = this.gw.attachments.anonymous(this);
    return { session: a.session, ticket: this.gw.attachments.ticketOf(a), resumed: false };
  }

  /** The handshake is done: the connection actor learns its session. */
  opened(): void {
    const a = this.current!;
    this.gw.actors.tell(connAddress(this.ref), { type: 'open', session: a.session, identity: a.identity, durable: a.durable });
  }

  /**
   * Runs a route for the client and hands the outcome to `reply.answer(id, …)`: the body, or the WireError the client
   * gets (rate limit, unknown route, the route's failure, TIMEOUT after requestTimeoutMs). With `id` undefined it is a
   * notify: same limits, route and deadline (its in-flight slot goes back at requestTimeoutMs even if the route never
   * settles), nothing answered, failures only counted.
   *
   * Callbacks rather than a promise per request, and one deadline queue per gateway rather than a timer per request:
   * the wrapper promise, its timer and the then-chain cost more than the echo route itself (bench gateway).
   */
  request(route: string, body: unknown, id: number | undefined, reply: RouteReply, now = this.gw.clock.now()): void {
    const gw = this.gw;
    // One clock read serves the rate limits and the deadline (a read costs up to a few hundred ns on a loaded VM);
    // the protocol handler passes the one its rules applied the frame at.
    const own = this.takeToken(now);
    if (own && !gw.admission.takeRequest(this.address, now)) {
      // The address's shared budget is spent, or it has its bound of requests unfinished: the request waits, this
      // socket unread meanwhile (admission.ts). Admission counts it in flight when it runs it.
      const run = () => {
        if (this.ending) return gw.admission.finish(this.address);
        this.active++;
        this.run(route, body, id, reply, gw.clock.now());
      };
      if (gw.admission.defer(this.address, this.transport, run)) {
        if (gw.admission.inFlightFull(this.address)) gw.metrics.inFlightWaits++;
        return;
      }
    } else if (own) {
      this.active++;
      return this.run(route, body, id, reply, now);
    }
    gw.metrics.rateLimited++;
    if (this.flooding()) {
      gw.metrics.floodClosed++;
      this.handler.close(CloseCode.RateLimited, 'too many requests');
    }
    if (id !== undefined) reply.answer(id, undefined, RATE_LIMITED);
  }

  /** A request within the limits: the route runs. */
  private run(route: string, body: unknown, id: number | undefined, reply: RouteReply, now: number): void {
    const gw = this.gw;
    const handler: RouteHandler | undefined = this.proto === 'pomelo' ? gw.routes.pomelo(route) : gw.routes.native(route);
    if (!handler) {
      gw.metrics.errors[ClientErrorCode.UnknownRoute] = (gw.metrics.errors[ClientErrorCode.UnknownRoute] ?? 0) + 1;
      if (id !== undefined) reply.answer(id, undefined, { code: ClientErrorCode.UnknownRoute, message: `no route ${route}` });
      return this.finished();
    }
    gw.metrics.requests++;
    let p: Promise<unknown>;
    try {
      p = handler(this.context(), body);
    } catch (err) {
      p = Promise.reject(err);
    }
    if (id === undefined) routeCallsOf(gw).track(p, 0, UNANSWERED, route, now, this.finished);
    else routeCallsOf(gw).track(p, id, reply, route, now, this.finished);
  }

  /** One request of this connection finished (its outcome answered, or its deadline passed): its slot goes back. */
  private readonly finished = (): void => {
    if (this.active === 0) return; // given back when the connection ended
    this.active--;
    this.gw.admission.finish(this.address);
  };

  /** The transport is gone (called once by the protocol handler). */
  ended(resumable: boolean): void {
    if (this.ending) return;
    this.ending = resumable ? 'resumable' : 'final';
    // Its requests still running no longer hold its address's in-flight bound: nobody waits for their answers.
    if (this.active > 0) {
      this.gw.admission.finish(this.address, this.active);
      this.active = 0;
    }
    this.gw.forget(this);
    this.gw.actors.tell(connAddress(this.ref), { type: 'closed', resumable });
    this.gw.attachments.ended(this);
  }

  /** Closes from the server side (kick from an actor, shutdown). */
  kick(code: number, reason: string): void {
    this.handler.close(code, reason);
  }

  /** The route context: one per connection, reading the current session through getters. */
  context(): RouteContext {
    if (this.ctx) return this.ctx;
    const c = this;
    const gw = this.gw;
    const session = {
      get id() {
        return c.current!.session;
      },
      conn: c.ref,
      get identity() {
        return c.current!.identity;
      },
    };
    this.ctx = {
      session,
      get principal() {
        return c.current?.principal;
      },
      actors: gw.actors,
      log: gw.log,
      login: (identity) => gw.attachments.login(c, identity),
      logout: () => gw.attachments.logout(c),
      get: <T>(key: string) => c.current!.data[key] as T | undefined,
      set: (key, value) => gw.attachments.set(c, key, value),
      entry: (p) => gw.entry(p),
    };
    return this.ctx;
  }

  private takeToken(now: number): boolean {
    const { requestsPerSecond, requestBurst } = this.gw.settings;
    if (now > this.refilledAt) {
      this.tokens = Math.min(requestBurst, this.tokens + ((now - this.refilledAt) * requestsPerSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * One more refused request: is this a sustained flood? Refusals fill a leaky bucket that drains at
   * `floodRefusalsPerSecond` on the injected clock; past `floodRefusalBurst` the client is closed. Accepted requests
   * do not empty it (they used to reset a strike count, so a flood at 6x the limit, which gets a request through
   * every 1/limit seconds, was never closed). With the defaults (50/s, burst 100; drain 50/s, flood burst 200) a client
   * at 6x the limit is closed within about a second; one at up to 2x, backing off, never.
   */
  private flooding(): boolean {
    const { floodRefusalsPerSecond, floodRefusalBurst } = this.gw.settings;
    const now = this.gw.clock.now();
    if (now > this.floodAt) {
      this.flood = Math.max(0, this.flood - ((now - this.floodAt) * floodRefusalsPerSecond) / 1000);
      this.floodAt = now;
    }
    this.flood += 1;
    return this.flood > floodRefusalBurst;
  }

  private async runResumeHooks(prev: ConnRef | undefined): Promise<void> {
    if (!prev) return;
    for (const { name, gateway } of this.gw.routes.apps) {
      if (!gateway.onSessionResume) continue;
      try {
        await gateway.onSessionResume(this.context(), prev);
      } catch (err) {
        this.gw.log.warn({ err, app: name, session: this.current?.session }, 'onSessionResume failed');
      }
    }
  }
}

export function wireError(err: unknown): WireError {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' && typeof e.message === 'string' ? { code: e.code, message: e.message } : toClientError(err);
}
