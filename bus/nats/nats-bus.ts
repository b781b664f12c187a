/**
 * Bus over NATS (nats.js v2). This folder is the only code that imports 'nats'.
 *
 * Client options are set explicitly because the defaults suit neither a server nor a test: nats.js gives up after 10
 * reconnect attempts and notices a dead server only after minutes of missed pings.
 */
import { connect, headers as natsHeaders, type ConnectionOptions, type Msg, type NatsConnection } from 'nats';
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
import { RequestMux, STATUS_HEADER } from '../request-mux.js';
import { assertSubject } from '../subject-match.js';
import { ClosedError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { translateNatsError } from './nats-errors.js';

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
  /** How long to try the first connection before giving up with an error naming the servers. */
  connectTimeoutMs?: number;
  reconnectTimeWaitMs?: number;
  pingIntervalMs?: number;
}

const REPLY_ABS = Symbol('replyAbs');
type NatsBusMsg = BusMsg & { [REPLY_ABS]?: string };

export function natsConnectionOptions(o: NatsBusOptions): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: o.servers,
    name: o.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: o.reconnectTimeWaitMs ?? 250,
    pingInterval: o.pingIntervalMs ?? 2000,
    maxPingOut: 2,
    timeout: o.connectTimeoutMs ?? 5000,
    inboxPrefix: `${o.prefix}._INBOX`,
  };
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
  return new NatsBus(nc, o.prefix, o.log ?? silentLogger);
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
  private readonly mux: RequestMux;
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private closedFlag = false;

  constructor(
    readonly connection: NatsConnection,
    readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.pre = prefix + '.';
    this.mux = new RequestMux(this, log);
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
    assertSubject(subject, false);
    try {
      if (opts) {
        this.connection.publish(this.pre + subject, data, {
          reply: opts.reply === undefined ? undefined : this.pre + opts.reply,
          headers: toHeaders(opts.headers),
        });
      } else this.connection.publish(this.pre + subject, data);
    } catch (err) {
      throw translateNatsError(err, `publish ${subject}`);
    }
  }

  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription {
    assertSubject(subject, true);
    const pre = this.pre;
    const log = this.log;
    try {
      const sub = this.connection.subscribe(pre + subject, {
        queue: opts?.queue,
        callback: (err, m) => {
          if (err) {
            log.warn({ err: translateNatsError(err, `subscription ${subject}`) }, 'subscription error');
            return;
          }
          let msg: BusMsg;
          try {
            msg = fromNats(m, pre);
          } catch (e) {
            log.warn({ err: e, subject: m.subject }, 'unreadable message headers');
            return;
          }
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
    assertSubject(subject, false);
    const { reply, promise } = this.mux.open(subject, opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    try {
      this.connection.publish(this.pre + subject, data, {
        reply: this.pre + reply,
        headers: toHeaders(opts?.headers),
      });
    } catch (err) {
      this.mux.fail(reply, translateNatsError(err, `request ${subject}`));
    }
    return promise;
  }

  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void {
    const abs = (msg as NatsBusMsg)[REPLY_ABS] ?? (msg.reply ? this.pre + msg.reply : undefined);
    if (!abs) return;
    try {
      this.connection.publish(abs, data, headers ? { headers: toHeaders(headers) } : undefined);
    } catch (err) {
      throw translateNatsError(err, `respond ${msg.subject}`);
    }
  }

  async flush(): Promise<void> {
    try {
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
      await this.connection.drain();
    } catch (err) {
      if (!this.connection.isClosed()) throw translateNatsError(err, 'drain');
    }
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
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

function fromNats(m: Msg, pre: string): BusMsg {
  const subject = m.subject.startsWith(pre) ? m.subject.slice(pre.length) : m.subject;
  let reply: string | undefined;
  let replyAbs: string | undefined;
  if (m.reply) {
    if (m.reply.startsWith(pre)) reply = m.reply.slice(pre.length);
    else {
      // A requester outside our prefix (e.g. `nats req` with its default inbox): keep where to answer.
      reply = m.reply;
      replyAbs = m.reply;
    }
  }
  let headers: Headers | undefined;
  const h = m.headers;
  if (h) {
    headers = {};
    for (const k of h.keys()) headers[k] = h.get(k);
    if (h.code !== 0 && h.code !== undefined) headers[STATUS_HEADER] = String(h.code);
  }
  const msg: NatsBusMsg = { subject, data: m.data, reply, headers };
  if (replyAbs) msg[REPLY_ABS] = replyAbs;
  return msg;
}

