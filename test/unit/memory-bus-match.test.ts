/**
 * The in-memory broker finds a subject's subscribers by its parent when its last token is in no pattern, and keeps
 * subjects as they come up to a bound (bus/memory-bus.ts, SubscriberLookup). Whatever it kept, a publish reaches
 * exactly the subscriptions whose pattern matches, also after patterns come and go, past both bounds, and for
 * patterns that end in a literal token, `*` or `>`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { MemoryBroker } from '../../bus/memory-bus.js';

let buses: Bus[] = [];
afterEach(async () => {
  for (const b of buses) await b.close();
  buses = [];
});

function setup() {
  const broker = new MemoryBroker();
  const bus = broker.connect({ prefix: 'p' });
  buses.push(bus);
  const got: string[] = [];
  const sub = (pattern: string) => bus.subscribe(pattern, (m) => got.push(`${pattern} ${m.subject}`));
  /** Publishes each subject, waits for delivery, returns what arrived (sorted) and forgets it. */
  const publish = async (...subjects: string[]) => {
    for (const s of subjects) bus.publish(s, new Uint8Array([1]));
    await broker.flush();
    const out = got.splice(0).sort();
    return out;
  };
  return { broker, bus, sub, publish };
}

describe('memory bus: subscribers by subject', () => {
  it('a literal last token goes to its own pattern; any other to the wildcard only', async () => {
    const { sub, publish } = setup();
    sub('a.b.*');
    sub('a.b.c');
    expect(await publish('a.b.c')).toEqual(['a.b.* a.b.c', 'a.b.c a.b.c']);
    expect(await publish('a.b.d')).toEqual(['a.b.* a.b.d']);
    // The same token ending a pattern at another depth: still the right answer.
    sub('x.d');
    expect(await publish('a.b.d', 'x.d')).toEqual(['a.b.* a.b.d', 'x.d x.d']);
  });

  it('a pattern subscribed or unsubscribed after its parent was looked up is seen at once', async () => {
    const { sub, publish } = setup();
    sub('a.b.*');
    expect(await publish('a.b.x', 'a.b.y')).toEqual(['a.b.* a.b.x', 'a.b.* a.b.y']);
    const literal = sub('a.b.x');
    expect(await publish('a.b.x', 'a.b.y')).toEqual(['a.b.* a.b.x', 'a.b.* a.b.y', 'a.b.x a.b.x']);
    const twice = sub('a.b.x');
    literal.unsubscribe();
    // One of two patterns ending with `x` left: `x` still counts as literal.
    expect(await publish('a.b.x')).toEqual(['a.b.* a.b.x', 'a.b.x a.b.x']);
    twice.unsubscribe();
    expect(await publish('a.b.x')).toEqual(['a.b.* a.b.x']);
    const gt = sub('a.>');
    expect(await publish('a.b.x')).toEqual(['a.> a.b.x', 'a.b.* a.b.x']);
    gt.unsubscribe();
    expect(await publish('a.b.x', 'a.q')).toEqual(['a.b.* a.b.x']);
  });

  it('`>` needs a token more; `*` matches one; nothing matches a parent alone', async () => {
    const { sub, publish } = setup();
    sub('a.>');
    sub('a.b.>');
    sub('a.*');
    expect(await publish('a.b')).toEqual(['a.* a.b', 'a.> a.b']);
    expect(await publish('a.b.c')).toEqual(['a.> a.b.c', 'a.b.> a.b.c']);
    expect(await publish('a.b.c.d')).toEqual(['a.> a.b.c.d', 'a.b.> a.b.c.d']);
    expect(await publish('a', 'b.c')).toEqual([]);
  });

  it('past both bounds (more subjects and parents than kept), every subject still reaches its subscribers', async () => {
    const { sub, publish } = setup();
    sub('k.*.*');
    const subjects = Array.from({ length: 20_000 }, (_, i) => `k.${i % 17_000}.a${i}`);
    const got = await publish(...subjects);
    expect(got.length).toBe(20_000);
    sub('k.3.a3');
    expect(await publish('k.3.a3', 'k.3.a20003')).toEqual(['k.*.* k.3.a20003', 'k.*.* k.3.a3', 'k.3.a3 k.3.a3']);
  });

  it('queue groups and other prefixes on the same broker are found the same way', async () => {
    const { broker, bus, publish } = setup();
    const other = broker.connect({ prefix: 'q' });
    buses.push(other);
    const seen: string[] = [];
    bus.subscribe('g.*', (m) => seen.push(`g1 ${m.subject}`), { queue: 'w' });
    bus.subscribe('g.*', (m) => seen.push(`g2 ${m.subject}`), { queue: 'w' });
    other.subscribe('g.*', (m) => seen.push(`other ${m.subject}`));
    // One member per message, round-robin per (group, subject).
    await publish('g.1', 'g.1');
    expect(seen.sort()).toEqual(['g1 g.1', 'g2 g.1']);
    other.publish('g.3', new Uint8Array([1]));
    await broker.flush();
    expect(seen).toContain('other g.3');
    expect(seen.filter((s) => s.endsWith('g.3'))).toEqual(['other g.3']);
  });

  it('a client on a prefix nested in the publisher’s sees the subject relative to its own; bad subjects still throw', async () => {
    const { broker, bus } = setup();
    const nested = broker.connect({ prefix: 'p.n' });
    buses.push(nested);
    const seen: string[] = [];
    nested.subscribe('k.*', (m) => seen.push(`nested ${m.subject} ${String(m.value)}`));
    bus.subscribe('n.k.*', (m) => seen.push(`own ${m.subject} ${String(m.value)}`));
    bus.publish('n.k.a', new Uint8Array(0), { value: 'v' });
    bus.publish('n.k.b', new Uint8Array([1]));
    await broker.flush();
    expect(seen.sort()).toEqual(['nested k.a v', 'nested k.b undefined', 'own n.k.a v', 'own n.k.b undefined']);
    for (const bad of ['', 'a..b', 'a.*', 'a b']) {
      expect(() => bus.publish(bad, new Uint8Array(0))).toThrow(/bad subject/);
      expect(() => bus.request(bad, new Uint8Array(0), { timeoutMs: 10 })).toThrow(/bad subject/);
    }
    // Checked once and kept: the same bad subject throws every time, a good one never.
    expect(() => bus.publish('a b', new Uint8Array(0))).toThrow(/bad subject/);
    expect(() => bus.publish('n.k.a', new Uint8Array(0))).not.toThrow();
  });
});
