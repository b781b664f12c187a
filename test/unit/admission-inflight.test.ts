/**
 * The in-flight bound of gateway/admission.ts, pure, on a ManualClock: at most `maxInFlightPerAddress` requests of
 * one address started and unfinished; the next waits (its socket paused, as for the budget) and starts when one
 * finishes, at once and without the clock moving; a closed connection gives back its requests' slots; finishes
 * never take the count below zero nor let more than the bound start (property-tested).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { Admission } from '../../gateway/admission.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
/** A budget that never limits here, so only the in-flight bound does. */
const LIMITS = { requestsPerSecondPerAddress: 1e6, requestBurstPerAddress: 1000, maxConnections: 100, maxConnectionsPerAddress: 10, connectionLimitExempt: ['127.0.0.1'] };

function setup(max: number) {
  const clock = new ManualClock(0);
  const a = new Admission({ ...LIMITS, maxInFlightPerAddress: max }, clock);
  const events: string[] = [];
  const sock = (name: string) => ({ pause: () => events.push(`pause ${name}`), resume: () => events.push(`resume ${name}`) });
  const started: number[] = [];
  let n = 0;
  /** One request as the connection core sends it: taken now, or deferred; 'refused' past the wait bound. */
  const request = (address: string, s: ReturnType<typeof sock>): number | 'refused' => {
    const k = ++n;
    if (a.takeRequest(address, clock.now())) started.push(k);
    else if (!a.defer(address, s, () => started.push(k))) return 'refused';
    return k;
  };
  return { clock, a, events, sock, started, request };
}

describe('admission: requests in flight per address', () => {
  it('the N+1th request waits, its socket paused, and starts when one finishes, without the clock moving', () => {
    const { a, clock, events, sock, started, request } = setup(3);
    a.admit(A, 0);
    a.admit(B, 0);
    const s = sock('a');
    for (let i = 0; i < 5; i++) request(A, s);
    expect(started).toEqual([1, 2, 3]);
    expect(a.inFlight(A)).toBe(3);
    expect(a.inFlightFull(A)).toBe(true);
    expect(a.waiting).toBe(2);
    expect(events).toEqual(['pause a']);
    // Nothing starts on time alone while all 3 are unfinished.
    clock.advance(1000);
    expect(started).toEqual([1, 2, 3]);
    // Another address is not held by A's bound.
    expect(request(B, sock('b'))).toBe(6);
    expect(started).toEqual([1, 2, 3, 6]);
    // One finishes: the oldest waiting starts at once; the count stays at the bound.
    a.finish(A);
    expect(started).toEqual([1, 2, 3, 6, 4]);
    expect(a.inFlight(A)).toBe(3);
    a.finish(A);
    expect(started).toEqual([1, 2, 3, 6, 4, 5]);
    expect(a.waiting).toBe(0);
    // The queue is empty: the paused socket is resumed by the next drain.
    expect(events).toEqual(['pause a']);
    clock.advance(10);
    expect(events).toEqual(['pause a', 'resume a']);
    for (let i = 0; i < 3; i++) a.finish(A);
    expect(a.inFlight(A)).toBe(0);
    expect(a.inFlightFull(A)).toBe(false);
  });

  it('past the wait bound (a burst beyond the saved-up budget) a request is refused', () => {
    const clock = new ManualClock(0);
    const a = new Admission({ ...LIMITS, requestBurstPerAddress: 4, maxInFlightPerAddress: 2 }, clock);
    a.admit(A, 0);
    const s = { pause: () => undefined, resume: () => undefined };
    const outcomes = Array.from({ length: 8 }, () => a.takeRequest(A, 0) || a.defer(A, s, () => undefined));
    // 2 start; as many may wait as the saved-up budget left (2) plus a burst (4): 6. The 9th is refused.
    expect(outcomes.filter((o) => o === true)).toHaveLength(8);
    expect(a.waiting).toBe(6);
    expect(a.takeRequest(A, 0) || a.defer(A, s, () => undefined)).toBe(false);
  });

  it("a closed connection gives back its requests' slots; the address's last connection closing drops them all", () => {
    const { a, sock, started, request } = setup(2);
    a.admit(A, 0);
    a.admit(A, 0);
    const [c1, c2] = [sock('1'), sock('2')];
    request(A, c1);
    request(A, c1);
    request(A, c2);
    expect(started).toEqual([1, 2]);
    // Connection 1 closes holding 2 unfinished (connection.ts gives back its count at once): request 3 starts.
    a.finish(A, 2);
    a.release(A);
    expect(started).toEqual([1, 2, 3]);
    expect(a.inFlight(A)).toBe(1);
    // The last connection goes: the address's state goes with it; a new connection starts from nothing.
    a.release(A);
    expect(a.inFlight(A)).toBe(0);
    a.admit(A, 0);
    a.finish(A); // a late finish of a request from before: ignored, not negative
    expect(a.inFlight(A)).toBe(0);
    request(A, c1);
    request(A, c1);
    request(A, c1);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(a.waiting).toBe(1);
  });

  it('a request run from the queue that finishes at once (an unknown route, a closed connection) lets the next start', () => {
    const clock = new ManualClock(0);
    const turns: Array<() => void> = [];
    const a = new Admission({ ...LIMITS, maxInFlightPerAddress: 1 }, clock, (fn) => turns.push(fn));
    a.admit(A, 0);
    const s = { pause: () => undefined, resume: () => undefined };
    const ran: number[] = [];
    expect(a.takeRequest(A, 0)).toBe(true);
    for (let k = 1; k <= 3; k++)
      a.defer(A, s, () => {
        ran.push(k);
        if (k < 3) a.finish(A); // finished within its own start
      });
    a.finish(A);
    // One waiting request starts per event-loop turn; the next turn starts the next.
    expect(ran).toEqual([1]);
    while (turns.length) turns.shift()!();
    expect(ran).toEqual([1, 2, 3]);
    expect(a.inFlight(A)).toBe(1);
    expect(a.waiting).toBe(0);
  });

  it('exempt addresses have no bound', () => {
    const { a, started, request, sock } = setup(1);
    a.admit('127.0.0.1', 0);
    for (let i = 0; i < 100; i++) request('127.0.0.1', sock('x'));
    expect(started).toHaveLength(100);
    expect(a.inFlight('127.0.0.1')).toBe(0);
    a.finish('127.0.0.1');
  });

  it('never more than the bound in flight, never below zero, and every request started once, whatever the order', () => {
    const MAX = 3;
    fc.assert(
      fc.property(fc.array(fc.constantFrom('req', 'finish', 'extra-finish', 'tick'), { maxLength: 150 }), (ops) => {
        const { a, clock, started, request, sock } = setup(MAX);
        a.admit(A, 0);
        const s = sock('s');
        let offered = 0;
        let finished = 0;
        for (const op of ops) {
          if (op === 'req') {
            if (request(A, s) !== 'refused') offered++;
          } else if (op === 'finish' && started.length > finished) {
            finished++;
            a.finish(A);
          } else if (op === 'extra-finish' && started.length === finished) a.finish(A); // nothing in flight: ignored
          else if (op === 'tick') clock.advance(10);
          expect(a.inFlight(A)).toBe(started.length - finished);
          expect(a.inFlight(A)).toBeLessThanOrEqual(MAX);
          expect(a.inFlight(A)).toBeGreaterThanOrEqual(0);
          expect(started.length + a.waiting).toBe(offered);
        }
        expect(new Set(started).size).toBe(started.length);
        while (started.length > finished) {
          finished++;
          a.finish(A);
        }
        expect(started).toHaveLength(offered);
        expect(a.waiting).toBe(0);
      }),
    );
  });
});
