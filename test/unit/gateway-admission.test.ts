/**
 * Admission at accept (gateway/admission.ts), pure: the gateway bound, the per-address bound, exempt addresses, the
 * request budget an address's connections share (a saved-up burst paced at twice the rate; the queue past it and
 * the paused sockets resumed one at a time), and releases returning every count to where it started (property-tested
 * over random admit/release sequences).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../gateway/admission.js';
import { ManualClock } from '../../common/clock.js';

const RATES = { requestsPerSecondPerAddress: 10, requestBurstPerAddress: 20 };

describe('gateway admission', () => {
  it("shares one request budget among an address's connections; exempt addresses have none", () => {
    const a = new Admission({ ...RATES, maxConnections: 100, maxConnectionsPerAddress: 64, connectionLimitExempt: ['127.0.0.1'] });
    for (let i = 0; i < 64; i++) a.admit('10.0.0.1', 0);
    a.admit('10.0.0.2', 0);
    a.admit('127.0.0.1', 0);
    const take = (ad: string, at: number, n = 1000) => Array.from({ length: n }, () => a.takeRequest(ad, at)).filter(Boolean).length;
    // The burst (20), whatever the number of connections: spent at twice the rate (20/s), 1 at an instant (50 ms of
    // the peak rate, at least 1). Stepping by 10 ms: 1 now, then one every 50 ms, until the burst runs out at 2 s.
    expect(take('10.0.0.1', 0)).toBe(1);
    expect(a.takeRequest('10.0.0.2', 0)).toBe(true); // another address is unaffected
    expect(take('127.0.0.1', 0)).toBe(1000);
    let granted = 1;
    for (let t = 10; t <= 1000; t += 10) granted += take('10.0.0.1', t);
    expect(granted).toBe(21); // 1 + 20 (the peak rate), not the burst at once nor 64 connections' worth
    // Once the burst is spent, the rate: 10 a second.
    for (let t = 1010; t <= 3000; t += 10) take('10.0.0.1', t);
    granted = 0;
    for (let t = 3010; t <= 4000; t += 10) granted += take('10.0.0.1', t);
    expect(granted).toBe(10);
  });

  it('a slice is at most 10 requests at the default budget, yet never less than one drain of a higher configured rate', () => {
    const at = (rate: number) => {
      const a = new Admission({ requestsPerSecondPerAddress: rate, requestBurstPerAddress: rate * 2, maxConnections: 10, maxConnectionsPerAddress: 10, connectionLimitExempt: [] });
      a.admit('10.0.0.1', 0);
      return Array.from({ length: 100_000 }, () => a.takeRequest('10.0.0.1', 0)).filter(Boolean).length;
    };
    expect(at(400)).toBe(10); // 50 ms of 800/s would be 40: capped at the slice
    expect(at(100)).toBe(10); // 50 ms of 200/s: 10
    // 100 000/s (a proxy's or a load test's address): one drain (10 ms) of the peak rate, 2000, may start at once; a
    // slice of 10 held it to ~10 per drain (bench gateway at 64 in flight fell to 0.27x bare ws, p99 625 ms).
    expect(at(100_000)).toBe(2000);
  });

  it('spends a saved-up burst at twice the rate, a slice of it at one instant', () => {
    const a = new Admission({ requestsPerSecondPerAddress: 100, requestBurstPerAddress: 200, maxConnections: 10, maxConnectionsPerAddress: 10, connectionLimitExempt: [] });
    a.admit('10.0.0.1', 0);
    const take = (at: number) => Array.from({ length: 1000 }, () => a.takeRequest('10.0.0.1', at)).filter(Boolean).length;
    expect(take(0)).toBe(10); // 50 ms at 200/s
    let granted = 10;
    for (let t = 10; t <= 1000; t += 10) granted += take(t);
    expect(granted).toBe(210); // 200/s for a second: tokens left (200 + 100 - 210)
    for (let t = 1010; t <= 1900; t += 10) granted += take(t);
    expect(granted).toBe(390); // the burst is gone at 1.9 s: 200 + 100 x 1.9
    let after = 0;
    for (let t = 1910; t <= 2900; t += 10) after += take(t);
    expect(after).toBe(100); // then the rate
  });

  it('waiting requests start one per event-loop turn, not a slice at once; a released address starts nothing more', () => {
    const clock = new ManualClock(0);
    const turns: Array<() => void> = [];
    const a = new Admission({ requestsPerSecondPerAddress: 400, requestBurstPerAddress: 800, maxConnections: 10, maxConnectionsPerAddress: 10, connectionLimitExempt: [] }, clock, (fn) => turns.push(fn));
    a.admit('10.0.0.1', 0);
    const s = { pause: () => undefined, resume: () => undefined };
    const ran: number[] = [];
    // Spend the instant allowance (a slice of 10), then 30 wait.
    while (a.takeRequest('10.0.0.1', 0)) ran.push(0);
    expect(ran).toHaveLength(10);
    for (let k = 1; k <= 30; k++) a.defer('10.0.0.1', s, () => ran.push(k));
    clock.advance(25); // the drain: 10 may start again (50 ms of the peak rate at most 10), one now
    expect(ran.slice(10)).toEqual([1]);
    const perTurn: number[] = [];
    while (turns.length) {
      const before = ran.length;
      turns.shift()!();
      perTurn.push(ran.length - before);
    }
    expect(perTurn.every((n) => n === 1)).toBe(true); // each later turn starts one
    expect(ran.slice(10)).toEqual(Array.from({ length: ran.length - 10 }, (_, i) => i + 1)); // oldest first
    expect(ran.length - 10).toBeGreaterThan(1);
    expect(ran.length - 10).toBeLessThan(30); // the pace still bounds a stretch of turns
    // The address's last connection goes while a turn is pending: that turn starts nothing.
    clock.advance(100);
    expect(turns.length).toBe(1);
    const started = ran.length;
    a.release('10.0.0.1');
    turns.shift()!();
    expect(ran.length).toBe(started);
  });

  it('queues past the budget and, once the queue has drained, resumes the paused sockets one per drain, oldest first', () => {
    const clock = new ManualClock(0);
    const a = new Admission({ requestsPerSecondPerAddress: 10, requestBurstPerAddress: 4, maxConnections: 10, maxConnectionsPerAddress: 10, connectionLimitExempt: [] }, clock);
    const events: string[] = [];
    const sock = (name: string) => ({ pause: () => events.push(`pause ${name}`), resume: () => events.push(`resume ${name}`) });
    const [s1, s2, s3] = [sock('1'), sock('2'), sock('3')];
    for (let i = 0; i < 3; i++) a.admit('10.0.0.1', 0);
    const ran: number[] = [];
    let n = 0;
    const request = (s: ReturnType<typeof sock>) => {
      const k = ++n;
      if (a.takeRequest('10.0.0.1', clock.now())) ran.push(k);
      else return a.defer('10.0.0.1', s, () => ran.push(k));
      return true;
    };
    // Instant allowance 1 (50 ms at 20/s): request 1 runs; 2-8 wait (3 tokens saved + a burst of 4 beyond them);
    // the 9th is refused.
    for (const s of [s1, s2, s3, s1, s2, s3, s1, s2]) request(s);
    expect(request(s3)).toBe(false);
    expect(ran).toEqual([1]);
    expect(a.waiting).toBe(7);
    expect(events).toEqual(['pause 2', 'pause 3', 'pause 1']); // s1's first request ran: it was paused last
    const resumes = () => events.filter((e) => e.startsWith('resume'));
    // Served in order at the peak rate (20/s) while saved tokens last, then at the rate (10/s); none resumed meanwhile.
    clock.advance(200);
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    clock.advance(199);
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(resumes()).toEqual([]);
    // The last one runs at 400 ms; the queue is empty: one socket per drain (10 ms), in the order they were paused.
    clock.advance(1);
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(resumes()).toEqual(['resume 2']);
    clock.advance(10);
    expect(resumes()).toEqual(['resume 2', 'resume 3']);
    clock.advance(10);
    expect(resumes()).toEqual(['resume 2', 'resume 3', 'resume 1']);
    clock.advance(1000);
    expect(resumes()).toHaveLength(3); // nothing paused: no more drains
    expect(a.waiting).toBe(0);
  });

  it('refuses past the per-address bound, then past the gateway bound; exempt addresses count only toward the latter', () => {
    const a = new Admission({ ...RATES, maxConnections: 5, maxConnectionsPerAddress: 2, connectionLimitExempt: ['127.0.0.1'] });
    expect([a.admit('10.0.0.1'), a.admit('10.0.0.1'), a.admit('10.0.0.1')]).toEqual([undefined, undefined, 'address']);
    expect([a.admit('127.0.0.1'), a.admit('127.0.0.1'), a.admit('127.0.0.1')]).toEqual([undefined, undefined, undefined]);
    expect(a.admit('10.0.0.2')).toBe('gateway');
    expect(a.open).toBe(5);
    expect(a.addresses).toBe(1);
    a.release('10.0.0.1');
    expect(a.admit('10.0.0.1')).toBeUndefined();
  });

  it('every admitted connection released brings the counts back to zero', () => {
    const addr = fc.constantFrom('a', 'b', 'c', 'x');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), addr), { maxLength: 200 }), (ops) => {
        const a = new Admission({ ...RATES, maxConnections: 20, maxConnectionsPerAddress: 3, connectionLimitExempt: ['x'] });
        const held: string[] = [];
        const per = new Map<string, number>();
        for (const [open, ad] of ops) {
          if (open) {
            const r = a.admit(ad);
            if (r === undefined) {
              held.push(ad);
              per.set(ad, (per.get(ad) ?? 0) + 1);
            } else if (r === 'address') expect(per.get(ad)).toBe(3);
            else expect(held.length).toBe(20);
          } else if (held.length) {
            const ad2 = held.splice(Math.floor(held.length / 2), 1)[0]!;
            per.set(ad2, per.get(ad2)! - 1);
            a.release(ad2);
          }
          expect(a.open).toBe(held.length);
        }
        for (const ad of held) a.release(ad);
        expect(a.open).toBe(0);
        expect(a.addresses).toBe(0);
      }),
    );
  });
});
