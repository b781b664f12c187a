/**
 * Invariant 1 (contract), bus half: the in-memory bus and the NATS bus (against a real nats-server) pass the same
 * tests. Test names carry the implementation: "bus contract [memory]" / "bus contract [nats]".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { impls, type Env } from '../support/impls.js';
import { collector, deferred } from '../../dev/wait.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

for (const impl of impls) {
  describe(`bus contract [${impl.name}]`, () => {
    let env: Env;
    let a: Bus;
    let b: Bus;
    beforeAll(async () => {
      env = await impl.setup();
      a = await env.connect('pa');
      b = await env.connect('pa');
    });
    afterAll(async () => env?.teardown());

    /** Publishes a marker after `fn`'s messages; once it arrives, anything earlier that was going to arrive has. */
    async function settle(sub: Bus, pub: Bus, subject: string): Promise<void> {
      const got = deferred();
      const s = sub.subscribe(subject, () => got.resolve());
      await sub.flush();
      pub.publish(subject, enc('marker'));
      await got.promise;
      s.unsubscribe();
    }

    it('delivers a published message to an exact subscriber, across connections', async () => {
      const got = deferred<BusMsg>();
      const s = b.subscribe('t1.x', (m) => got.resolve(m));
      await b.flush();
      a.publish('t1.x', enc('hello'));
      const m = await got.promise;
      expect(m.subject).toBe('t1.x');
      expect(dec(m.data)).toBe('hello');
      s.unsubscribe();
    });

    it("matches '*' to exactly one token and '>' to one or more", async () => {
      const star: string[] = [];
      const full: string[] = [];
      const s1 = b.subscribe('t2.*.end', (m) => star.push(m.subject));
      const s2 = b.subscribe('t2.>', (m) => full.push(m.subject));
      await b.flush();
      for (const subj of ['t2.a.end', 't2.a.b.end', 't2.end', 't2.a', 't2']) a.publish(subj, enc(subj));
      await settle(b, a, 't2.zz.marker');
      expect(star).toEqual(['t2.a.end']);
      expect(full).toEqual(['t2.a.end', 't2.a.b.end', 't2.end', 't2.a', 't2.zz.marker']);
      s1.unsubscribe();
      s2.unsubscribe();
    });

    it('gives each message to exactly one member of a queue group, spreading over members', async () => {
      const n = 300;
      const counts = [0, 0, 0];
      const seen = new Set<string>();
      const all = collector<string>(n);
      const plain = collector<string>(n);
      const subs = [0, 1, 2].map((i) =>
        (i === 1 ? a : b).subscribe(
          't3.work',
          (m) => {
            counts[i]!++;
            const k = dec(m.data);
            expect(seen.has(k)).toBe(false);
            seen.add(k);
            all.push(k);
          },
          { queue: 'workers' },
        ),
      );
      const watcher = b.subscribe('t3.work', (m) => plain.push(dec(m.data)));
      await a.flush();
      await b.flush();
      for (let i = 0; i < n; i++) a.publish('t3.work', enc(String(i)));
      await all.done;
      await plain.done; // a non-queue subscriber still gets every message
      expect(counts.reduce((x, y) => x + y, 0)).toBe(n);
      for (const c of counts) expect(c).toBeGreaterThan(0);
      for (const s of [...subs, watcher]) s.unsubscribe();
    });

    it('keeps per-publisher order (10 000 messages)', async () => {
      const n = 10_000;
      const got = collector<number>(n);
      const s = b.subscribe('t4.seq', (m) => got.push(decode<number>(m.data)));
      await b.flush();
      for (let i = 0; i < n; i++) a.publish('t4.seq', encode(i));
      const items = await got.done;
      expect(items).toEqual(Array.from({ length: n }, (_, i) => i));
      s.unsubscribe();
    });

    it('answers a request with the responder reply', async () => {
      const s = b.subscribe('t5.echo', (m) => b.respond(m, enc(`re:${dec(m.data)}`)));
      await b.flush();
      const r = await a.request('t5.echo', enc('ping'), { timeoutMs: 5000 });
      expect(dec(r.data)).toBe('re:ping');
      const many = await Promise.all(
        Array.from({ length: 64 }, (_, i) => a.request('t5.echo', enc(String(i)), { timeoutMs: 5000 })),
      );
      expect(many.map((m) => dec(m.data))).toEqual(Array.from({ length: 64 }, (_, i) => `re:${i}`));
      s.unsubscribe();
    });

    it('times out a request nobody answers, and fails at once when nobody listens', async () => {
      const s = b.subscribe('t6.silent', () => undefined);
      await b.flush();
      await expect(a.request('t6.silent', enc('x'), { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TIMEOUT' });
      s.unsubscribe();
      await b.flush();
      // A 60 s timeout: only the no-responders path can end this within the test's time.
      await expect(a.request('t6.nobody', enc('x'), { timeoutMs: 60_000 })).rejects.toMatchObject({
        code: 'NO_RESPONDERS',
      });
    });

    it('round-trips headers', async () => {
      const got = deferred<BusMsg>();
      const s = b.subscribe('t7.h', (m) => got.resolve(m));
      await b.flush();
      a.publish('t7.h', enc('x'), { headers: { 'X-Trace': 'abc-123', sender: 'n1' } });
      const m = await got.promise;
      expect(m.headers?.['X-Trace']).toBe('abc-123');
      expect(m.headers?.['sender']).toBe('n1');
      const r = b.subscribe('t7.req', (req) => b.respond(req, enc('ok'), { echoed: req.headers?.['q'] ?? '' }));
      await b.flush();
      const reply = await a.request('t7.req', enc('x'), { headers: { q: 'v' } });
      expect(reply.headers?.['echoed']).toBe('v');
      s.unsubscribe();
      r.unsubscribe();
    });

    it('stops delivering after unsubscribe', async () => {
      const got: string[] = [];
      const s = b.subscribe('t8.x', (m) => got.push(dec(m.data)));
      await b.flush();
      a.publish('t8.x', enc('1'));
      await settle(b, a, 't8.marker1');
      s.unsubscribe();
      expect(s.closed).toBe(true);
      await b.flush();
      a.publish('t8.x', enc('2'));
      await settle(b, a, 't8.marker2');
      expect(got).toEqual(['1']);
    });

    it('keeps a subscription alive when its handler throws', async () => {
      const got: string[] = [];
      const s = b.subscribe('t9.x', (m) => {
        got.push(dec(m.data));
        if (got.length === 1) throw new Error('handler bug');
      });
      await b.flush();
      a.publish('t9.x', enc('1'));
      a.publish('t9.x', enc('2'));
      await settle(b, a, 't9.marker');
      expect(got).toEqual(['1', '2']);
      s.unsubscribe();
    });

    it('rejects bad subjects with BAD_SUBJECT', () => {
      expect(() => a.publish('t10..x', enc('x'))).toThrow(expect.objectContaining({ code: 'BAD_SUBJECT' }));
      expect(() => a.publish('t10.*', enc('x'))).toThrow(expect.objectContaining({ code: 'BAD_SUBJECT' }));
      expect(() => a.subscribe('t10.>.x', () => undefined)).toThrow(expect.objectContaining({ code: 'BAD_SUBJECT' }));
    });

    it('isolates prefixes: two deployments on one bus never see each other', async () => {
      const other = await env.connect('pb');
      const leaked: string[] = [];
      const spy = other.subscribe('>', (m) => leaked.push(m.subject));
      const responder = other.subscribe('t11.svc', (m) => other.respond(m, enc('wrong prefix')));
      await other.flush();
      await expect(b.request('t11.svc', enc('x'), { timeoutMs: 60_000 })).rejects.toMatchObject({
        code: 'NO_RESPONDERS',
      });
      const ownSpy: string[] = [];
      const mine = a.subscribe('>', (m) => ownSpy.push(m.subject));
      await a.flush();
      b.publish('t11.data', enc('x'));
      await settle(a, b, 't11.marker');
      expect(leaked).toEqual([]);
      expect(ownSpy).toContain('t11.data');
      spy.unsubscribe();
      mine.unsubscribe();
      responder.unsubscribe();
      await other.close();
    });

    it('keeps one connection\'s order across publishes, requests and replies made in one turn', async () => {
      const c = await env.connect('pa');
      const seen = collector<string>(4);
      const w = b.subscribe('t13.>', (m) => seen.push(`${m.subject}:${dec(m.data)}`));
      const svc = b.subscribe('t13.svc', (m) => b.respond(m, m.data));
      await b.flush();
      c.publish('t13.a', enc('1'));
      const answered = c.request('t13.svc', enc('2'));
      c.publish('t13.a', enc('3'));
      c.publish('t13.b', enc('4'));
      expect(dec((await answered).data)).toBe('2');
      expect(await seen.done).toEqual(['t13.a:1', 't13.svc:2', 't13.a:3', 't13.b:4']);
      w.unsubscribe();
      svc.unsubscribe();
      await c.close();
    });

    it('sends what was published just before drain', async () => {
      const c = await env.connect('pa');
      const got = collector<string>(1);
      const s = b.subscribe('t14.x', (m) => got.push(dec(m.data)));
      await b.flush();
      c.publish('t14.x', enc('last'));
      await c.drain();
      expect(await got.done).toEqual(['last']);
      s.unsubscribe();
    });

    it('drains: delivers what is pending, then closes; later calls fail with CLOSED', async () => {
      const c = await env.connect('pa');
      const n = 500;
      const got = collector<number>(n);
      c.subscribe('t12.x', (m) => got.push(decode<number>(m.data)));
      await c.flush();
      const statuses: string[] = [];
      c.onStatus((s) => statuses.push(s.type));
      for (let i = 0; i < n; i++) a.publish('t12.x', encode(i));
      await a.flush();
      await got.done;
      const slow = c.subscribe('t12.never', () => undefined);
      const silent = b.subscribe('t12.slow', () => undefined);
      await b.flush();
      const pending = c.request('t12.slow', enc('x'), { timeoutMs: 60_000 }).then(
        () => 'answered',
        (e: { code?: string }) => e.code,
      );
      await c.flush();
      await c.drain();
      expect(c.isClosed).toBe(true);
      expect(slow.closed).toBe(true);
      expect(await pending).toBe('CLOSED');
      silent.unsubscribe();
      expect(() => c.publish('t12.x', enc('late'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
      await expect(c.request('t12.x', enc('late'))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect.poll(() => statuses).toContain('closed');
    });
  });
}
