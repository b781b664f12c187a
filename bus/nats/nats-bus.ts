/**
 * Bus over NATS (nats.js v2). This folder is the only code that imports 'nats'.
 *
 * Client options are set explicitly because the defaults suit neither a server nor a test: nats.js gives up after 10
 * reconnect attempts and notices a dead server only after minutes of missed pings.
 *
 * Publishes, requests and replies made during one event-loop iteration leave in one socket write at its end
 * (publish-queue.ts). Code using the raw `connection` (the store's JetStream calls) bypasses that queue: its order
 * against this bus's publishes holds only across a `flush()`.
 */
import { connect, headers as natsHeaders, type ConnectionOptions, type NatsConnection, type PublishOptions as NatsPublishOptions } from 'nats';
import type { Logger } from 'pino';
import {
  type Bus,
  type BusMsg,
  type BusStatus,
  type Headers,
  type MsgHandler,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../bus.js';
import { RequestMux, type ReplyListener } from '../request-mux.js';
import { assertSubject, PublishSubjects } from '../subject-match.js';
import { ClosedError, ErrorCode, GatehouseError } from '../../common/errors.js';
import { INBOX } from '../subjects.js';
import { silentLogger } from '../../common/logger.js';
import { translateNatsError } from './nats-errors.js';
import { NatsBusMsgImpl, REPLY_ABS, type NatsBusMsg } from './nats-msg.js';
import { PublishQueue } from './publish-queue.js';

export interface NatsAuth {
  user?: string;
  pass?: string;
  token?: string;
  tls?: { certFile?: string; keyFile?: string; caFile?: string };
}

export interface NatsBusOptions extends NatsAuth {
  prefix: string;
  servers: string[];
  name?: string;
  log?: Logger;
  /**
   * Reply inbox token under the prefix: INBOX for nodes (default), TOOL_INBOX for operator tools, so that NATS
   * permissions can give the ops user its own replies and nobody else's (bus/subjects.ts).
   */
  inbox?: string;
  /** How long to try the first connection before giving up with an error naming the servers. */
  connectTimeoutMs?: number;
  reconnectTimeWaitMs?: number;
  pingIntervalMs?: number;
  /** nats-server does not deliver this connection's own publishes to its own subscriptions (gateway channels). */
  noEcho?: boolean;
}

export function natsConnectionOptions(o: NatsBusOptions): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: o.servers,
    name: o.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: o.reconnectTimeWaitMs ?? 250,
    pingInterval: o.pingIntervalMs ?? 2000,
    maxPingOut: 2,
    timeout: o.connectTimeoutMs ?? 5000,
    inboxPrefix: `${o.prefix}.${o.inbox ?? INBOX}`,
    // nats.js captures a stack trace per request by default, to decorate errors: measurable CPU on every JetStream
    // call (bench chat: ~16 % of a worker in NatsError/BaseRequest). Our errors carry their own context.
    noAsyncTraces: true,
  };
  if (o.noEcho) opts.noEcho = true;
  if (o.user !== undefined) opts.user = o.user;
  if (o.pass !== undefined) opts.pass = o.pass;
  if (o.token !== undefined) opts.token = o.token;
  if (o.tls) opts.tls = { certFile: o.tls.certFile, keyFile: o.tls.keyFile, caFile: o.tls.caFile };
  return opts;
}

export async function connectNats(o: NatsBusOptions): Promise<NatsConnection> {
  try {
    return await connect(natsConnectionOptions(o));
  } catch (err) {
    throw translateNatsError(err, `connecting to NATS at ${o.servers.join(',')}`);
  }
}

export async function createNatsBus(o: NatsBusOptions): Promise<Bus & { readonly connection: NatsConnection }> {
  const nc = await connectNats(o);
  return new NatsBus(nc, o.prefix, o.log ?? silentLogger, o.inbox);
}

function toHeaders(h: Headers | undefined) {
  if (!h) return undefined;
  const out = natsHeaders();
  for (const k in h) out.set(k, h[k]!);
  return out;
}

export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly pre: string;
  /** Checked subjects and their absolute form (subject-match.ts). */
  private readonly subjects: PublishSubjects;
  private readonly mux: RequestMux;
  /** `<prefix>.<mux base>.`: a request's absolute reply subject is this plus its token. */
  private readonly replyPre: string;
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private closedFlag = false;
  /** This iteration's publishes, tells, asks and replies, written together at its end (publish-queue.ts). */
  private readonly queue: PublishQueue;

  constructor(
    readonly connection: NatsConnection,
    readonly prefix: string,
    private readonly log: Logger,
    inbox: string = INBOX,
  ) {
    this.pre = prefix + '.';
    this.subjects = new PublishSubjects(this.pre);
    this.mux = new RequestMux(this, log, inbox, this.listenReplies);
    this.replyPre = this.pre + this.mux.base + '.';
    this.queue = new PublishQueue(
      (subject, data, o) => connection.publish(subject, data, o),
      {
        request: (token, err, subject) => this.mux.failToken(token, translateNatsError(err, `request ${subject}`)),
        lost: (count, err, subject) =>
          log.warn({ err: translateNatsError(err, `publish ${subject}`), count }, 'publishes queued before the connection closed were not sent'),
      },
    );
    void this.watchStatus();
    void connection.closed().then((err) => {
      this.closedFlag = true;
      this.mux.close(new ClosedError('bus closed'));
      this.emit({ type: 'closed', error: err ?? undefined });
    });
  }

  get isClosed(): boolean {
    return this.closedFlag || this.connection.isClosed();
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    const abs = this.absolute(subject);
    const reply = opts?.reply === undefined ? undefined : this.pre + opts.reply;
    if (opts?.headers === undefined && this.queueable(data)) {
      this.queue.push(abs, data, reply === undefined ? undefined : { reply }, undefined);
      return;
    }
    try {
      this.sendNow(abs, data, { reply, headers: toHeaders(opts?.headers) });
    } catch (err) {
      throw translateNatsError(err, `publish ${subject}`);
    }
  }

  /**
   * Whether nats.js would take `data` now: connected and not closed (`info`), not draining (it then refuses publishes
   * once the subscriptions are drained), within the server's max payload. Anything else, and anything with headers
   * (whose encoded size only nats.js knows), is handed to nats.js at once, so its error is thrown to the caller as
   * before. Headers are off the hot path (tools, error replies).
   */
  private queueable(data: Uint8Array): boolean {
    const info = this.connection.info;
    return info !== undefined && data.length <= info.max_payload && !this.connection.isDraining();
  }

  /** Publishes past the queue, after what is queued (order). Throws what nats.js throws. */
  private sendNow(abs: string, data: Uint8Array, opts: NatsPublishOptions | undefined): void {
    this.queue.sendNow();
    this.connection.publish(abs, data, opts);
  }

  private absolute(subject: string): string {
    return this.subjects.absolute(subject);
  }

  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription {
    assertSubject(subject, true);
    const pre = this.pre;
    const log = this.log;
    // Without wildcards every message's subject is the subscription's own: no need to decode it.
    const fixedSubject = /(^|\.)[*>](\.|$)/.test(subject) ? undefined : subject;
    // The SUB goes after the publishes made before it: queued ones would otherwise reach this subscription.
    this.queue.sendNow();
    try {
      const sub = this.connection.subscribe(pre + subject, {
        queue: opts?.queue,
        callback: (err, m) => {
          if (err) {
            log.warn({ err: translateNatsError(err, `subscription ${subject}`) }, 'subscription error');
            return;
          }
          const msg = new NatsBusMsgImpl(m, pre, fixedSubject);
          try {
            handler(msg);
          } catch (e) {
            log.error({ err: e, subject: msg.subject }, 'subscription handler threw');
          }
        },
      });
      return {
        subject,
        queue: opts?.queue,
        get closed() {
          return sub.isClosed();
        },
        unsubscribe() {
          if (!sub.isClosed()) sub.unsubscribe();
        },
      };
    } catch (err) {
      throw translateNatsError(err, `subscribe ${subject}`);
    }
  }

  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg> {
    if (this.isClosed) return Promise.reject(new ClosedError('bus is closed'));
    const abs = this.absolute(subject);
    const token = this.mux.token();
    const promise = this.mux.wait(token, subject, opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    const headers = opts?.headers;
    if (headers === undefined && this.queueable(data)) {
      this.queue.push(abs, data, { reply: this.replyPre + token }, token);
      return promise;
    }
    try {
      this.sendNow(abs, data, { reply: this.replyPre + token, headers: toHeaders(headers) });
    } catch (err) {
      this.mux.failToken(token, translateNatsError(err, `request ${subject}`));
    }
    return promise;
  }

  /**
   * The mux's replies, on a raw subscription: the token is cut from the absolute subject at once, where a bus
   * subscription would build the relative subject per reply and the mux cut it again (bench bus, requester CPU
   * 1.26× the raw floor at 64 in flight before).
   */
  private readonly listenReplies: ReplyListener = (pattern, settle) => {
    const pre = this.pre;
    const skip = pre.length + pattern.length - 1;
    const log = this.log;
    this.queue.sendNow();
    const sub = this.connection.subscribe(pre + pattern, {
      callback: (err, m) => {
        if (err) {
          log.warn({ err: translateNatsError(err, 'reply inbox') }, 'subscription error');
          return;
        }
        try {
          settle(m.subject.slice(skip), new NatsBusMsgImpl(m, pre, undefined));
        } catch (e) {
          log.error({ err: e }, 'reply handler threw');
        }
      },
    });
    return {
      subject: pattern,
      get closed() {
        return sub.isClosed();
      },
      unsubscribe() {
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  };

  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void {
    const abs = msg instanceof NatsBusMsgImpl ? msg.replyAbs : ((msg as NatsBusMsg)[REPLY_ABS] ?? (msg.reply ? this.pre + msg.reply : undefined));
    if (!abs) return;
    if (headers === undefined && this.queueable(data)) {
      this.queue.push(abs, data, undefined, undefined);
      return;
    }
    try {
      this.sendNow(abs, data, { headers: toHeaders(headers) });
    } catch (err) {
      throw translateNatsError(err, `respond ${msg.subject}`);
    }
  }

  async flush(): Promise<void> {
    try {
      this.queue.sendNow();
      await this.connection.flush();
    } catch (err) {
      throw translateNatsError(err, 'flush');
    }
  }

  onStatus(listener: (s: BusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async drain(): Promise<void> {
    if (this.isClosed) return;
    try {
      this.queue.sendNow();
      await this.connection.drain();
    } catch (err) {
      if (!this.connection.isClosed()) throw translateNatsError(err, 'drain');
    }
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    this.queue.sendNow();
    await this.connection.close();
  }

  private emit(s: BusStatus): void {
    for (const l of this.listeners) {
      try {
        l(s);
      } catch (err) {
        this.log.error({ err }, 'status listener threw');
      }
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.connection.status()) {
      const server = typeof s.data === 'string' ? s.data : undefined;
      switch (s.type) {
        case 'disconnect':
          this.log.warn({ server }, 'NATS disconnected');
          this.emit({ type: 'disconnect', server });
          break;
        case 'reconnecting':
          this.emit({ type: 'reconnecting' });
          break;
        case 'reconnect':
          this.log.info({ server }, 'NATS reconnected');
          this.emit({ type: 'reconnect', server });
          break;
        case 'error': {
          const denied = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
          if (denied) {
            // The server refused a publish or subscribe (permissions: `gatehouse nats-config`). A request to a
            // subject we may not publish to fails now, with a reason, instead of timing out.
            const verb = denied.operation === 'subscription' ? 'subscribe' : denied.operation;
            const error = new GatehouseError(ErrorCode.PermissionDenied, `this NATS user may not ${verb} to ${denied.subject}`);
            this.log.warn({ err: error }, 'NATS permission denied');
            if (denied.operation === 'publish' && denied.subject.startsWith(this.pre)) this.mux.failTo(denied.subject.slice(this.pre.length), error);
            this.emit({ type: 'error', error });
            break;
          }
          const error = translateNatsError(s.data, 'NATS async error');
          this.log.error({ err: error }, 'NATS error');
          this.emit({ type: 'error', error });
          break;
        }
        case 'ldm':
          this.log.warn({ server }, 'NATS server entering lame duck mode');
          break;
      }
    }
  }
}
