/**
 * Admission at accept: how many connections this gateway holds, and how many each remote address holds. A socket
 * past either bound is refused before any connection state exists for it (no connection actor, no protocol rules):
 * refusing costs the gateway one write and a close, so a host opening sockets in a loop cannot grow its memory.
 *
 * Bookkeeping: the gateway asks `admit` on accept and calls `release` exactly once per admitted socket.
 *
 * The request budget an address's connections share is enforced by waiting, not by refusing: a request that finds
 * it spent is queued (`defer`) and its connection's socket stops being read (TCP backpressure) until the queue has
 * drained at the budget's rate. Refusing cost the gateway a decode, an error and a write for every request over the
 * budget, so one host flooding at 8x its budget (64 sockets at the per-connection rate) kept the event loop busy
 * with refusals and every other client's requests waited behind them (bench hostile); paused, its excess stays in
 * its own socket buffers and costs the gateway nothing. At most one burst's worth of requests waits per address
 * beyond what its saved-up budget covers (`requestBurstPerAddress`, so a wait is at most about burst/rate: 2 s by
 * default); past that the request is refused RATE_LIMITED as before. A connection's own limit (`requestsPerSecond`, the flood close) is unchanged.
 *
 * Pacing: a saved-up burst is spent at up to PEAK_FACTOR times the address's rate, with at most INSTANT_MS of that
 * peak rate at once and never more than SLICE_MAX requests (10 at 400/s), not all at the same instant. The gateway and the routes share one event
 * loop: 800 requests let in at once were 800 routes' work queued in front of every other client's next request
 * (bench hostile: the good client's slowest samples fell in the half-second after the read flood began). Paced, an
 * address's work arrives a few requests per drain, and those start one per event-loop turn (`pump`), so another
 * address's request waits behind at most one of them, not behind the slice.
 *
 * Resuming: when an address's queue has drained, its paused sockets are resumed one per drain, oldest first, not
 * all at once. Each paused socket holds a backlog (a client pipelining at the per-connection rate); 60 resumed
 * together delivered thousands of requests in one turn, a burst queued and the rest decoded only to be refused.
 * One at a time, the queue holds at most about one socket's backlog and every socket of the address gets its turn.
 *
 * Requests in flight: the budget paces how fast an address's requests start, not how many are unfinished at once.
 * Routes waiting on actors (200 attacker sockets in bench hostile) kept hundreds of requests' work queued in front
 * of every other client's. At most `maxInFlightPerAddress` of an address's requests are started and unfinished;
 * further ones wait in the same queue, the same way (sockets paused, the same wait bound, RATE_LIMITED past it), and
 * each finished request lets the oldest waiting one start at once (`finish`), within the budget and its pacing.
 * Bookkeeping: every request `takeRequest` (or a drain) lets start is given back exactly once with `finish`, when
 * it is answered, fails, times out, or its connection closes (the connection core keeps that count, connection.ts).
 */
import type { Clock, TimerHandle } from '../common/clock.js';

export type Refusal = 'gateway' | 'address';

/** What admission needs of a connection's transport to hold it back: stop and restart reading its socket. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface AdmissionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly requestsPerSecondPerAddress: number;
  readonly requestBurstPerAddress: number;
  /** Requests of one address started and not finished; more wait. Absent: no bound. */
  readonly maxInFlightPerAddress?: number;
  /** Addresses the per-address bound does not apply to (the gateway bound still does). */
  readonly connectionLimitExempt: readonly string[];
}

/** One address's connections and its shared request budget (a token bucket on the gateway's clock). */
interface AddressState {
  n: number;
  tokens: number;
  /** The peak-rate allowance (PEAK_FACTOR x rate, at most INSTANT_MS of it saved): how fast `tokens` may be spent. */
  pace: number;
  at: number;
  /** Requests waiting for the budget, oldest first; their connections are in `paused`. */
  queue: Array<() => void>;
  paused: Set<Pausable>;
  timer?: TimerHandle;
  /** Requests started (taken or run from the queue) and not yet finished. */
  inFlight: number;
  /** A drain or a finish is running the queue: a finish from within it only gives back its slot. */
  pumping: boolean;
  /** The next waiting request starts on a later event-loop turn (`nextTurn`); none is started before it. */
  turnPending: boolean;
  /** Released: its last connection is gone (a pending turn does nothing). */
  gone: boolean;
}

/** How often a waiting address's queue is drained (whatever the rate: fewer, larger steps than one per token). */
const DRAIN_MS = 10;
/** How much faster than its rate an address may spend a saved-up burst. */
const PEAK_FACTOR = 2;
/** How much of the peak rate may be spent at one instant (ms of it). */
const INSTANT_MS = 50;
/**
 * At most this many requests of one address start at one instant (unless its rate needs more per drain). INSTANT_MS alone let 40 start
 * together at the default budget (400/s): bench hostile's reads attacker put 40 unknown-id reads in one stretch of
 * the event loop, the longest stretches of its window (40 reads, 45-51 ms of CPU on a loaded host), and every other
 * client's request waited behind them. 10 is a slice of a few milliseconds of route work; the peak rate is unchanged
 * (the rest of the saved-up burst follows drain by drain).
 */
const SLICE_MAX = 10;

export class Admission {
  private readonly perAddress = new Map<string, AddressState>();
  private readonly exempt: ReadonlySet<string>;
  /** Requests an address may start at one instant: INSTANT_MS at its peak rate, at least one, at most SLICE_MAX. */
  private readonly instant: number;
  private readonly maxInFlight: number;
  private total = 0;

  /** Requests that waited for their address's budget (instead of being refused). */
  deferred = 0;

  /**
   * Without `timers` nothing waits: `defer` refuses, and a spent budget refuses as it used to. `nextTurn` runs a
   * function on a later event-loop turn, after pending I/O (setImmediate; tests pass their own).
   */
  constructor(
    private readonly limits: AdmissionLimits,
    private readonly timers?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>,
    private readonly nextTurn: (fn: () => void) => void = setImmediate,
  ) {
    this.exempt = new Set(limits.connectionLimitExempt);
    this.maxInFlight = limits.maxInFlightPerAddress ?? Infinity;
    // SLICE_MAX never holds an address below its configured peak rate: one drain's worth of that rate may always start
    // at once (a high limit set for a proxy's or a load test's address capped it at ~10 per drain: bench gateway's 64
    // in flight from one address fell to 0.27x bare ws, p99 625 ms, queued here).
    const perDrain = (limits.requestsPerSecondPerAddress * PEAK_FACTOR * DRAIN_MS) / 1000;
    const perInstant = (limits.requestsPerSecondPerAddress * PEAK_FACTOR * INSTANT_MS) / 1000;
    this.instant = Math.max(1, Math.min(perInstant, Math.max(SLICE_MAX, perDrain)));
  }

  /** Requests waiting for their address's budget, over all addresses. */
  get waiting(): number {
    let n = 0;
    for (const s of this.perAddress.values()) n += s.queue.length;
    return n;
  }

  /** Requests of `address` started and not finished (0 for an exempt or unknown address). */
  inFlight(address: string): number {
    return this.perAddress.get(address)?.inFlight ?? 0;
  }

  /** Whether `address` has `maxInFlightPerAddress` requests unfinished (what its next request waits for, then). */
  inFlightFull(address: string): boolean {
    const s = this.perAddress.get(address);
    return s !== undefined && s.inFlight >= this.maxInFlight;
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.total;
  }

  /** Distinct remote addresses holding a connection (exempt ones are not tracked). */
  get addresses(): number {
    return this.perAddress.size;
  }

  /** Counts the connection in, or says which bound refuses it (nothing is counted then). */
  admit(address: string, now = 0): Refusal | undefined {
    if (this.total >= this.limits.maxConnections) return 'gateway';
    if (!this.exempt.has(address)) {
      const s = this.perAddress.get(address);
      if (s && s.n >= this.limits.maxConnectionsPerAddress) return 'address';
      if (s) s.n++;
      else
        this.perAddress.set(address, {
          n: 1,
          tokens: this.limits.requestBurstPerAddress,
          pace: this.instant,
          at: now,
          queue: [],
          paused: new Set(),
          inFlight: 0,
          pumping: false,
          turnPending: false,
          gone: false,
        });
    }
    this.total++;
    return undefined;
  }

  /**
   * One request from `address`: false when the address's shared budget is spent or it has `maxInFlightPerAddress`
   * requests unfinished. True counts the request in flight until `finish`. The state lives while the address holds
   * a connection, so closing and reopening sockets does not refill it faster than the rate.
   */
  takeRequest(address: string, now: number): boolean {
    const s = this.perAddress.get(address);
    if (!s) return true; // exempt (or already released)
    if (s.queue.length > 0 || s.inFlight >= this.maxInFlight) return false; // earlier requests go first
    this.refill(s, now);
    if (s.tokens < 1 || s.pace < 1) return false;
    s.tokens -= 1;
    s.pace -= 1;
    s.inFlight++;
    return true;
  }

  /**
   * `n` requests of `address` that `takeRequest` or the queue started have finished (answered, failed, timed out, or
   * their connection closed): their slots are free, and the oldest waiting requests start now if the budget allows.
   * Never below zero: a finish with nothing in flight (an address whose state was dropped and made anew) is ignored.
   */
  finish(address: string, n = 1): void {
    const s = this.perAddress.get(address);
    if (!s) return;
    s.inFlight = Math.max(0, s.inFlight - n);
    if (s.pumping || s.queue.length === 0) return;
    this.pump(s);
    if (s.queue.length > 0 || s.paused.size > 0) this.schedule(s);
  }

  /**
   * After `takeRequest` said no: queues `run` until the address's budget allows it and stops reading `transport`
   * meanwhile. False (nothing queued) when the address already has a burst's worth waiting beyond its saved-up
   * budget (at most 2 bursts in all), or nothing may wait.
   */
  defer(address: string, transport: Pausable, run: () => void): boolean {
    const s = this.perAddress.get(address);
    if (!s || !this.timers) return false;
    // A burst's worth waits beyond what the saved-up budget covers: those would have run at once without pacing.
    this.refill(s, this.timers.now());
    if (s.queue.length >= this.limits.requestBurstPerAddress + Math.floor(s.tokens)) return false;
    s.queue.push(run);
    this.deferred++;
    if (!s.paused.has(transport)) {
      s.paused.add(transport);
      transport.pause();
    }
    this.schedule(s);
    return true;
  }

  release(address: string): void {
    this.total--;
    if (this.exempt.has(address)) return;
    const s = this.perAddress.get(address);
    if (!s) return;
    if (s.n <= 1) {
      // The address's last connection is gone: whatever waited was for one of its connections (each run checks).
      if (s.timer !== undefined) this.timers!.clearTimeout(s.timer);
      s.gone = true;
      this.perAddress.delete(address);
    } else s.n--;
  }

  private refill(s: AddressState, now: number): void {
    if (now <= s.at) return;
    const { requestsPerSecondPerAddress: rate, requestBurstPerAddress: burst } = this.limits;
    s.tokens = Math.min(burst, s.tokens + ((now - s.at) * rate) / 1000);
    s.pace = Math.min(this.instant, s.pace + ((now - s.at) * rate * PEAK_FACTOR) / 1000);
    s.at = now;
  }

  /**
   * Starts the oldest waiting request if the budget, the peak rate and the in-flight bound allow it now, and the next
   * one on a later event-loop turn (`nextTurn`), and so on while they allow. One per turn, not a slice at once: a
   * slice of 10 unknown-id reads ran back to back in one stretch of the event loop (the reads' routes, their turns,
   * their answers' writes), and a well-behaved client's request read meanwhile waited behind all ten (bench
   * hostile: its p99 at 2.0-2.4x quiet). A turn boundary lets the poll phase read other sockets between two. A request
   * run here may finish at once (an unknown route, a closed connection): its finish only gives back its slot.
   */
  private pump(s: AddressState): void {
    if (s.turnPending) return;
    s.pumping = true;
    try {
      if (!this.startable(s)) return;
      s.tokens -= 1;
      s.pace -= 1;
      s.inFlight++;
      s.queue.shift()!();
    } finally {
      s.pumping = false;
    }
    if (s.queue.length === 0 || !this.startable(s)) return;
    s.turnPending = true;
    this.nextTurn(() => {
      s.turnPending = false;
      if (s.gone) return;
      this.pump(s);
      if (s.queue.length > 0 || s.paused.size > 0) this.schedule(s);
    });
  }

  /** Whether the oldest waiting request may start now (refills the budget first). */
  private startable(s: AddressState): boolean {
    this.refill(s, this.timers!.now());
    return s.queue.length > 0 && s.tokens >= 1 && s.pace >= 1 && s.inFlight < this.maxInFlight;
  }

  private schedule(s: AddressState): void {
    if (s.timer !== undefined) return;
    // Waiting for a request to finish only: its finish starts the next one, no timer needed.
    if (s.queue.length > 0 && s.inFlight >= this.maxInFlight && s.tokens >= 1 && s.pace >= 1) return;
    const rate = this.limits.requestsPerSecondPerAddress;
    // With requests waiting, until one token (and one of the peak rate's) is back, and no less than DRAIN_MS; with
    // none, DRAIN_MS to resume the next paused socket (what it sends waits in the queue if the budget is spent).
    const ms =
      s.queue.length === 0
        ? DRAIN_MS
        : Math.max(DRAIN_MS, Math.ceil(((1 - Math.min(1, s.tokens)) * 1000) / rate), Math.ceil(((1 - Math.min(1, s.pace)) * 1000) / (rate * PEAK_FACTOR)));
    s.timer = this.timers!.setTimeout(() => this.drain(s), ms);
  }

  /**
   * Runs what the budget, the peak rate and the in-flight bound allow now, oldest first. Once nothing of the address
   * waits, resumes its longest-paused socket, and drains again later while others are paused (their backlogs come in
   * one at a time).
   */
  private drain(s: AddressState): void {
    s.timer = undefined;
    this.pump(s);
    if (s.queue.length > 0) return this.schedule(s);
    const next = s.paused.values().next();
    if (next.done) return;
    s.paused.delete(next.value);
    next.value.resume();
    if (s.paused.size > 0) this.schedule(s);
  }
}

export function refusalReason(r: Refusal): string {
  return r === 'gateway' ? 'too many connections to this gateway' : 'too many connections from this address';
}
