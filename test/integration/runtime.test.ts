/**
 * Actor runtime behaviour, run over both buses (in-memory and a real nats-server): ordering, turns, passivation,
 * timers, supervision, stale-writer fencing, mailbox bounds, bad input and traces.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import { announceTap, type TraceRecord } from '../../actors/runtime/trace.js';
import { decodeEnvelope, encodeReply } from '../../actors/runtime/envelope.js';
import { decode } from '../../bus/codec.js';
import { ManualClock } from '../../common/clock.js';
import { impls, type Env } from '../support/impls.js';
import { captureLogger, startHost, TEST_LIMITS } from '../support/hosts.js';
import { counterKind, pulseKind, tallyKind, turnKind } from '../support/test-kinds.js';
import { deferred, eventually } from '../../dev/wait.js';

const kinds = [counterKind, tallyKind, turnKind, pulseKind];

for (const impl of impls) {
  describe(`actor runtime [${impl.name}]`, () => {
    let env: Env;
    const hosts: ActorHost[] = [];
    beforeAll(async () => {
      env = await impl.setup();
    });
    afterAll(async () => {
      for (const h of hosts) await h.stop();
      await env?.teardown();
    });
    // Every test is its own deployment (prefix), so hosts of earlier tests never share its shards.
    let testNo = 0;
    let prefix = 'rt0';
    beforeEach(() => {
      prefix = `rt${++testNo}`;
    });
    async function host(o: Partial<Parameters<typeof startHost>[1]> = {}) {
      const h = await startHost(env, { kinds, clock: new ManualClock(), prefix, ...o });
      hosts.push(h);
      return h;
    }
    async function client() {
      return new ActorClient(await env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
    }

    it('activates on first message and keeps per-sender order with many senders', async () => {
      await host();
      const senders = await Promise.all([1, 2, 3, 4, 5].map(() => client()));
      const perSender = 300;
      for (let n = 0; n < perSender; n++) {
        senders.forEach((c, i) => c.tell({ kind: 'tally', id: 'order-1' }, { type: 'inc', from: `s${i}`, n }));
      }
      const probe = await client();
      const state = await eventually(
        async () => {
          const s = await probe.ask<{ count: number; log: Array<[string, number]> }>({ kind: 'tally', id: 'order-1' }, { type: 'get' });
          return s.count === senders.length * perSender ? s : undefined;
        },
        { what: 'all tells applied' },
      );
      for (let i = 0; i < senders.length; i++) {
        const seq = state.log.filter(([f]) => f === `s${i}`).map(([, n]) => n);
        expect(seq).toEqual(Array.from({ length: perSender }, (_, n) => n));
      }
    });

    it('runs one turn at a time, even when a turn awaits an ask', async () => {
      await host();
      const c = await client();
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) => c.ask({ kind: 'turns', id: 'serial' }, { type: 'work', i })),
      );
      expect(replies).toEqual(Array(8).fill('ok'));
      const log = await c.ask<string[]>({ kind: 'turns', id: 'serial' }, { type: 'dump' });
      expect(log).toEqual(Array.from({ length: 8 }, (_, i) => [`start:${i}`, `end:${i}`]).flat());
    });

    it('passivates idle actors and reactivates them from their snapshot', async () => {
      const clock = new ManualClock();
      const h = await host({ clock, limits: { passivateAfterMs: 1000 } });
      const c = await client();
      for (let i = 0; i < 3; i++) await c.ask({ kind: 'counter', id: 'passive-1' }, { type: 'inc' });
      expect(h.activeCount('counter')).toBe(1);
      clock.advance(1500); // sweeps run on the injected clock
      await eventually(() => h.activeCount('counter') === 0, { what: 'passivation' });
      expect(h.metrics.passivations).toBeGreaterThan(0);
      const activations = h.metrics.activations;
      const s = await c.ask<{ count: number }>({ kind: 'counter', id: 'passive-1' }, { type: 'get' });
      expect(s.count).toBe(3);
      expect(h.metrics.activations).toBe(activations + 1);
    });

    it('keeps non-durable actors with state in memory, passivating only when the kind allows', async () => {
      const clock = new ManualClock();
      const h = await host({ clock, limits: { passivateAfterMs: 1000 } });
      const c = await client();
      await c.ask({ kind: 'tally', id: 'keep-1' }, { type: 'inc' });
      await c.ask({ kind: 'tally', id: 'zero-1' }, { type: 'get' });
      clock.advance(1500);
      await eventually(() => h.activeCount('tally') === 1, { what: 'zero tally passivated' });
      expect((await c.ask<{ count: number }>({ kind: 'tally', id: 'keep-1' }, { type: 'get' })).count).toBe(1);
    });

    it('fires timers as turns on the injected clock, and never passivates an actor with a pending timer', async () => {
      const clock = new ManualClock();
      const h = await host({ clock, limits: { passivateAfterMs: 100 } });
      const c = await client();
      await c.ask({ kind: 'counter', id: 'timer-1' }, { type: 'arm', ms: 5000 });
      clock.advance(1000);
      expect(h.sweep()).toBe(0);
      expect(h.activeCount('counter')).toBeGreaterThan(0);
      clock.advance(4000);
      const s = await eventually(async () => {
        const v = await c.ask<{ fired: number }>({ kind: 'counter', id: 'timer-1' }, { type: 'get' });
        return v.fired === 1 ? v : undefined;
      });
      expect(s.fired).toBe(1);
      // The timer's own effect (a tell) was carried out.
      await eventually(async () => (await c.ask<{ count: number }>({ kind: 'counter', id: 'timer-sink' }, { type: 'get' })).count === 1);
    });

    it('keeps a pending timer across passivation-free hand-over (restored from the image)', async () => {
      const clock = new ManualClock();
      const a = await host({ clock, nodeId: 'ha' });
      const b = await host({ clock, nodeId: 'hb', ownAllShards: false });
      const c = await client();
      await c.ask({ kind: 'counter', id: 'ho-timer' }, { type: 'arm', ms: 3000 });
      const shard = c.shardOf('ho-timer');
      const images = await a.releaseShard('counter', shard);
      b.ownShard('counter', shard);
      await b.bus.flush();
      for (const { id, image } of images) b.adopt('counter', id, image);
      clock.advance(3000);
      await eventually(async () => (await c.ask<{ fired: number }>({ kind: 'counter', id: 'ho-timer' }, { type: 'get' })).fired === 1, {
        what: 'timer fired on the new host',
      });
    });

    it('does not rewrite a durable actor whose only change is a re-armed periodic timer', async () => {
      const clock = new ManualClock();
      const h = await host({ clock });
      const c = await client();
      expect(await c.ask({ kind: 'pulse', id: 'p1' }, { type: 'bump' })).toBe(1);
      const written = h.metrics.persisted;
      const processed = h.metrics.processed;
      for (let i = 1; i <= 5; i++) {
        clock.advance(1000);
        await eventually(() => h.metrics.processed >= processed + i, { what: `timer turn ${i}` });
      }
      expect(h.metrics.persisted).toBe(written);
      expect(await c.ask({ kind: 'pulse', id: 'p1' }, { type: 'bump' })).toBe(2);
      expect(h.metrics.persisted).toBe(written + 1);
    });

    it('supervises: error reply, restart from the state before the crash, stop after repeated crashes', async () => {
      const { log, lines } = captureLogger();
      await host({ log });
      const c = await client();
      const id = { kind: 'counter', id: 'crashy' };
      await c.ask(id, { type: 'inc' });
      await c.ask(id, { type: 'inc' });
      await expect(c.ask(id, { type: 'boom' })).rejects.toMatchObject({ code: 'ACTOR_FAILED', message: expect.stringContaining('boom requested') });
      expect((await c.ask<{ count: number }>(id, { type: 'get' })).count).toBe(2);
      expect(await c.ask(id, { type: 'inc' })).toBe(3);
      for (let i = 0; i < TEST_LIMITS.maxRestarts; i++) await expect(c.ask(id, { type: 'boom' })).rejects.toMatchObject({ code: 'ACTOR_FAILED' });
      await expect(c.ask(id, { type: 'get' })).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
      const escalation = lines.find((l) => l.msg === 'actor keeps crashing: stopped');
      expect(escalation).toMatchObject({ level: 50, actor: 'counter/crashy' });
    });

    it('fences a stale writer: an old instance cannot overwrite newer state', async () => {
      const clock = new ManualClock();
      const a = await host({ clock, nodeId: 'old' });
      const b = await host({ clock, nodeId: 'new', ownAllShards: false });
      const c = await client();
      const id = { kind: 'counter', id: 'fenced' };
      expect(await c.ask(id, { type: 'inc' })).toBe(1); // a holds count 1 in memory
      const shard = c.shardOf(id.id);
      a.suspendShard('counter', shard); // a is cut off but keeps its instance
      b.ownShard('counter', shard);
      await b.bus.flush();
      expect(await c.ask(id, { type: 'inc' })).toBe(2); // b loads 1 from the store, writes 2
      b.suspendShard('counter', shard);
      a.ownShard('counter', shard);
      await a.bus.flush();
      await expect(c.ask(id, { type: 'inc' })).rejects.toMatchObject({ code: 'NOT_OWNER' });
      expect(a.metrics.fenced).toBe(1);
      // The stale instance left; a fresh one reads the newer state.
      expect(await c.ask(id, { type: 'inc' })).toBe(3);
    });

    it('bounds the mailbox: asks beyond it get BUSY while a turn is blocked', async () => {
      const h = await host({ limits: { mailboxLimit: 5 }, });
      const c = await client();
      const held = deferred<void>();
      const pending: Array<() => void> = [];
      // The actor's turn asks `ext/hold`; we answer only when told, so its turn stays blocked.
      const hold = c.bus.subscribe(c.subjectOf({ kind: 'ext', id: 'hold' }), (m) => {
        pending.push(() => c.bus.respond(m, encodeReply({ ok: true, v: 'released' })));
        held.resolve();
      });
      await c.bus.flush();
      const id = { kind: 'counter', id: 'busy-1' };
      const first = c.ask(id, { type: 'relay', to: 'hold' }, { timeoutMs: 10_000 });
      await held.promise;
      const asks = Array.from({ length: 12 }, () => c.ask(id, { type: 'inc' }, { timeoutMs: 10_000 }));
      const settled = Promise.allSettled(asks);
      // Every ask beyond the limit is answered BUSY at once, while the turn is still blocked.
      await eventually(() => h.metrics.busy === 7, { what: '7 BUSY answers' });
      pending.forEach((f) => f());
      hold.unsubscribe();
      expect(await first).toBe('released');
      const rest = await settled;
      const busy = rest.filter((r) => r.status === 'rejected');
      expect(busy).toHaveLength(7);
      for (const r of busy) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'BUSY' });
      expect(rest.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    });

    it('answers undecodable and malformed messages with BAD_MESSAGE, and keeps going', async () => {
      const h = await host({ });
      const c = await client();
      const subject = c.subjectOf({ kind: 'counter', id: 'bad-1' });
      const r1 = decode<{ ok: boolean; e: { code: string } }>((await c.bus.request(subject, new Uint8Array([0xc1, 0x02]))).data);
      expect(r1).toMatchObject({ ok: false, e: { code: 'BAD_MESSAGE' } });
      await expect(c.ask({ kind: 'counter', id: 'bad-1' }, { nope: 1 })).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
      await expect(c.ask({ kind: 'counter', id: 'bad-1' }, { type: 'inc', by: 'x' })).rejects.toMatchObject({ code: 'BAD_MESSAGE', message: 'inc.by must be a number' });
      await expect(c.ask({ kind: 'counter', id: 'bad-1' }, { type: '$nope' })).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
      expect(await c.ask({ kind: 'counter', id: 'bad-1' }, { type: 'inc' })).toBe(1);
      expect(h.metrics.badMessages).toBeGreaterThanOrEqual(3);
      void decodeEnvelope;
    });

    it('publishes readable transitions while someone taps them; inspect shows current state', async () => {
      await host({ });
      const c = await client();
      const got = deferred<TraceRecord>();
      const sub = c.bus.subscribe('trace.counter.>', (m) => got.resolve(decode<TraceRecord>(m.data)));
      const stop = announceTap(c.bus, 'trace.counter.>');
      await c.bus.flush();
      await eventually(async () => {
        await c.ask({ kind: 'counter', id: 'traced' }, { type: 'arm', ms: 60_000 });
        return true;
      });
      const rec = await got.promise;
      expect(rec).toMatchObject({ kind: 'counter', id: 'traced', event: 'arm', from: 'idle', to: 'armed', node: 'n1' });
      const info = await c.ask<Record<string, unknown>>({ kind: 'counter', id: 'traced' }, { type: '$inspect' });
      expect(info).toMatchObject({ kind: 'counter', id: 'traced', value: 'armed', timers: 1, persistence: 'snapshot' });
      stop();
      sub.unsubscribe();
    });
  });
}
