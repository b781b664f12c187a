/**
 * Admission at accept (gateway/admission.ts), pure: the gateway bound, the per-address bound, exempt addresses, the
 * request budget an address's connections share, and releases returning every count to where it started
 * (property-tested over random admit/release sequences).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../gateway/admission.js';

const RATES = { requestsPerSecondPerAddress: 10, requestBurstPerAddress: 20 };

describe('gateway admission', () => {
  it("shares one request budget among an address's connections; exempt addresses have none", () => {
    const a = new Admission({ ...RATES, maxConnections: 100, maxConnectionsPerAddress: 64, connectionLimitExempt: ['127.0.0.1'] });
    for (let i = 0; i < 64; i++) a.admit('10.0.0.1', 0);
    a.admit('10.0.0.2', 0);
    a.admit('127.0.0.1', 0);
    let granted = 0;
    for (let i = 0; i < 1000; i++) if (a.takeRequest('10.0.0.1', 0)) granted++;
    expect(granted).toBe(20); // the burst, whatever the number of connections
    expect(a.takeRequest('10.0.0.2', 0)).toBe(true); // another address is unaffected
    expect(Array.from({ length: 1000 }, () => a.takeRequest('127.0.0.1', 0)).every(Boolean)).toBe(true);
    // Refills at the rate: 1 s later, 10 more.
    granted = 0;
    for (let i = 0; i < 100; i++) if (a.takeRequest('10.0.0.1', 1000)) granted++;
    expect(granted).toBe(10);
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
