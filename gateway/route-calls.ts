/**
 * Requests in flight on one gateway and their deadline. A route's outcome goes to a RouteReply (the protocol
 * handler, which answers request `id` while its connection is open) by callbacks rather than a promise per request,
 * and the deadlines share one timer per gateway rather than one each: the wrapper promise, its timer and the
 * then-chain cost more than the echo route itself (bench gateway).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/clock.js';
import type { WireError } from '../common/errors.js';
import { ClientErrorCode, clientErrorText } from '../protocol/error-codes.js';
import { toClientError } from './errors.js';
import type { GatewayMetrics } from './metrics.js';

/** Where a route's outcome goes: the protocol handler, which answers request `id` while its connection is open. */
export interface RouteReply {
  answer(id: number, body: unknown, error: WireError | undefined): void;
}

/** What the calls need of their gateway (GatewayServices has it all). */
export interface RouteCallEnv {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly settings: { readonly requestTimeoutMs: number };
}

export const RATE_LIMITED: WireError = Object.freeze({
  code: ClientErrorCode.RateLimited,
  message: clientErrorText[ClientErrorCode.RateLimited],
});

/** A route's failure, counted by the code the client would get (for a notify, all there is of it). */
export function countFailure(env: RouteCallEnv, err: unknown): WireError {
  const e = toClientError(err, env.log);
  env.metrics.errors[e.code] = (env.metrics.errors[e.code] ?? 0) + 1;
  return e;
}

/** One dispatched request: settles once, by the route's outcome or by its deadline, whichever comes first. */
class RouteCall {
  deadline = 0;
  private done = false;
  /** Neighbours in the gateway's list of calls in flight (RouteCalls), oldest first. */
  prev: RouteCall | undefined = undefined;
  next: RouteCall | undefined = undefined;

  constructor(
    private readonly calls: RouteCalls,
    private readonly id: number,
    private readonly reply: RouteReply,
    readonly route: string,
    /** Called once, after the answer, whichever way the call settles (admission's in-flight count, connection.ts). */
    private readonly finished: (() => void) | undefined,
  ) {}

  readonly ok = (v: unknown): void => {
    if (this.done) return;
    this.done = true;
    this.calls.remove(this);
    this.reply.answer(this.id, v, undefined);
    this.finished?.();
  };

  readonly fail = (err: unknown): void => {
    if (this.done) return;
    this.done = true;
    this.calls.remove(this);
    this.reply.answer(this.id, undefined, countFailure(this.calls.env, err));
    this.finished?.();
  };

  /** The deadline passed first: the client hears TIMEOUT; a later outcome is dropped. */
  expire(timeoutMs: number): void {
    if (this.done) return;
    this.done = true;
    const message = `route ${this.route} took longer than ${timeoutMs} ms`;
    this.reply.answer(this.id, undefined, { code: ClientErrorCode.Timeout, message });
    this.finished?.();
  }
}

/**
 * The requests in flight on one gateway, in deadline order (one timeout for all, so insertion order), behind one timer
 * on the injected clock. The timer is re-armed lazily: when it fires it expires what is due and is set again for the
 * oldest call left, so a request that settles in time touches no timer at all.
 */
export class RouteCalls {
  /**
   * The calls in flight, oldest (first deadline) first, as an intrusive list: adding and removing one touches two
   * neighbours, where a Set hashed every call in and out (bench gateway: a visible share of the route's cost).
   */
  private head: RouteCall | undefined;
  private tail: RouteCall | undefined;
  private size = 0;
  private timer: TimerHandle | undefined;

  constructor(readonly env: RouteCallEnv) {}

  get inFlight(): number {
    return this.size;
  }

  /**
   * Answers request `id` on `reply` with what `p` settles to, or TIMEOUT after requestTimeoutMs from `now`; then
   * calls `finished` (once).
   */
  track(p: Promise<unknown>, id: number, reply: RouteReply, route: string, now = this.env.clock.now(), finished?: () => void): void {
    const { clock, settings } = this.env;
    const call = new RouteCall(this, id, reply, route, finished);
    call.deadline = now + settings.requestTimeoutMs;
    this.append(call);
    if (this.timer === undefined) this.timer = clock.setTimeout(this.fire, settings.requestTimeoutMs);
    p.then(call.ok, call.fail);
  }

  remove(call: RouteCall): void {
    const { prev, next } = call;
    if (prev) prev.next = next;
    else if (this.head === call) this.head = next;
    else return; // not in the list (expired already)
    if (next) next.prev = prev;
    else this.tail = prev;
    call.prev = call.next = undefined;
    this.size--;
  }

  private append(call: RouteCall): void {
    const tail = this.tail;
    call.prev = tail;
    if (tail) tail.next = call;
    else this.head = call;
    this.tail = call;
    this.size++;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const { clock, settings } = this.env;
    const now = clock.now();
    for (let call = this.head; call; call = this.head) {
      if (call.deadline > now) {
        // A finish run by an expiry may have started a request whose track armed a timer: one timer, for the oldest.
        if (this.timer !== undefined) clock.clearTimeout(this.timer);
        this.timer = clock.setTimeout(this.fire, call.deadline - now);
        return;
      }
      this.remove(call);
      call.expire(settings.requestTimeoutMs);
    }
  };
}

const perGateway = new WeakMap<RouteCallEnv, RouteCalls>();

/** The gateway's RouteCalls, made on first use. */
export function routeCallsOf(env: RouteCallEnv): RouteCalls {
  let c = perGateway.get(env);
  if (!c) perGateway.set(env, (c = new RouteCalls(env)));
  return c;
}
