/**
 * docs/INVARIANTS.md invariant 10 (NOT_OWNER always means "not applied") and the writes it rests on, on the memory store
 * and on JetStream KV:
 * - two instances racing to create the same new durable actor: the first write is compare-and-set too, one wins, the
 *   other's write gets CONFLICT and its asker NOT_OWNER, and the store holds exactly one update;
 * - a write whose outcome is unknown (timed out after it was sent) answers MAYBE_APPLIED, a refused one (no stream
 *   leader: NO_RESPONDERS) STORE_ERROR; neither is retried by the gateway's helper;
 * - a duplicate envelope (same sender and sequence) reaching an active actor is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import { encodeEnvelope } from '../../actors/runtime/envelope.js';
import { askDelivered } from '../../actors/runtime/redeliver.js';
import type { KvBucket, Store } from '../../bus/store.js';
import { systemClock } from '../../common/clock.js';
import { NoRespondersError, TimeoutError } from '../../common/errors.js';
import { toClientError } from '../../gateway/errors.js';
import { retryableCodes } from '../../protocol/error-codes.js';
import { deferred } from '../../dev/wait.js';
import { impls, type Env } from '../support/impls.js';
import { startHost, TEST_LIMITS } from '../support/hosts.js';
import { counterKind } from '../support/test-kinds.js';
import { ActorHost as Host } from '../../actors/runtime/host.js';

type Fault = (op: 'create' | 'update' | 'put', write: () => Promise<number>) => Promise<number>;

/** A store whose snapshot writes pass through `fault` (when set). */
function faultyStore(inner: Store, holder: { fault?: Fault }): Store {
  return {
    kind: inner.kind,
    close: () => inner.close(),
    async bucket(name, opts) {
      const b = await inner.bucket(name, opts);
      if (name !== 'actors') return b;
      const wrapped: KvBucket = Object.create(b) as KvBucket;
      const via = (op: 'create' | 'update' | 'put', write: () => Promise<number>) => (holder.fault ? holder.fault(op, write) : write());
      wrapped.create = (k, v) => via('create', () => b.create(k, v));
      // An unconditional put is never how a snapshot is written; wrapped so a test sees it if it ever is.
      wrapped.put = (k, v) => via('put', () => b.put(k, v));
      wrapped.update = (k, v, e) => via('update', () => b.update(k, v, e));
      return wrapped;
    },
  };
}

for (const impl of impls.filter((i) => i.name !== 'lmdb')) {
  describe(`write outcomes [${impl.name}]`, { timeout: 30_000 }, () => {
    let env: Env;
    const hosts: ActorHost[] = [];
    let n = 0;
    const prefix = () => `wo${impl.name}${n}`;
    beforeAll(async () => {
      env = await impl.setup();
    });
    afterAll(async () => {
      for (const h of hosts) await h.stop();
      await env?.teardown();
    });

    async function faultyHost(p: string, nodeId: string, holder: { fault?: Fault }, ownAllShards = true): Promise<ActorHost> {
      const h = new Host({
        nodeId,
        bus: await env.connect(p),
        store: faultyStore(await env.store(p), holder),
        clock: systemClock,
        kinds: [counterKind],
        limits: { ...TEST_LIMITS },
        ownAllShards,
      });
      await h.start();
      hosts.push(h);
      return h;
    }
    const client = async (p: string) => new ActorClient(await env.connect(p), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });

    it('two instances creating the same new durable actor: one wins, the other gets CONFLICT and answers NOT_OWNER', async () => {
      n++;
      const p = prefix();
      const held = deferred<void>();
      const release = deferred<void>();
      // a's first snapshot write waits until b has created the actor, whatever kind of write it is: a first write that
      // is not a create must fail the assertions below, not hang this test until its timeout.
      let firstOp: string | undefined;
      const holdA: { fault?: Fault } = {
        fault: async (op, write) => {
          if (firstOp === undefined) {
            firstOp = op;
            held.resolve();
            await release.promise;
          }
          return write();
        },
      };
      const a = await faultyHost(p, 'a', holdA);
      const b = await faultyHost(p, 'b', {}, false);
      const c = await client(p);
      const id = { kind: 'counter', id: 'new-1' };
      const shard = c.shardOf(id.id);
      const first = c.ask(id, { type: 'inc' });
      await held.promise; // a ran the turn and sent its first write
      if (firstOp !== 'create') release.resolve(); // let a finish before this test fails
      expect(firstOp).toBe('create');
      a.suspendShard('counter', shard);
      b.ownShard('counter', shard);
      await b.bus.flush();
      expect(await c.ask(id, { type: 'inc' })).toBe(1); // b created it
      release.resolve();
      await expect(first).rejects.toMatchObject({ code: 'NOT_OWNER' });
      expect(a.metrics.fenced).toBe(1);
      expect(b.metrics.persisted).toBe(1);
      // Exactly one update is stored: b's next increment reads 1 and writes 2.
      expect(await c.ask(id, { type: 'inc' })).toBe(2);
    });

    it('a write that timed out after it was sent answers MAYBE_APPLIED; the actor reloads what the store holds', async () => {
      n++;
      const p = prefix();
      const holder: { fault?: Fault } = {};
      await faultyHost(p, 'm', holder);
      const c = await client(p);
      const id = { kind: 'counter', id: 'maybe-1' };
      expect(await c.ask(id, { type: 'inc' })).toBe(1);
      holder.fault = async (_op, write) => {
        await write(); // it landed
        throw new TimeoutError('update actors/counter.maybe-1: timed out');
      };
      await expect(c.ask(id, { type: 'inc' })).rejects.toMatchObject({ code: 'MAYBE_APPLIED' });
      holder.fault = undefined;
      // The update was applied; the fresh instance sees it (a rollback would have answered 2 and then been fenced).
      expect(await c.ask(id, { type: 'inc' })).toBe(3);
    });

    it('a write refused before it was applied (no stream leader) answers STORE_ERROR and is rolled back', async () => {
      n++;
      const p = prefix();
      const holder: { fault?: Fault } = {};
      await faultyHost(p, 's', holder);
      const c = await client(p);
      const id = { kind: 'counter', id: 'refused-1' };
      expect(await c.ask(id, { type: 'inc' })).toBe(1);
      holder.fault = async () => {
        throw new NoRespondersError('$JS.API.STREAM.MSG.GET');
      };
      await expect(c.ask(id, { type: 'inc' })).rejects.toMatchObject({ code: 'STORE_ERROR' });
      holder.fault = undefined;
      expect(await c.ask(id, { type: 'inc' })).toBe(2);
    });

    it('neither the gateway nor its retry helper repeats a MAYBE_APPLIED update; NOT_OWNER is repeated', async () => {
      let calls = 0;
      const answer = (code: string) => ({
        ask: async () => {
          calls++;
          throw Object.assign(new Error(code), { code });
        },
      });
      await expect(askDelivered(answer('MAYBE_APPLIED'), { kind: 'counter', id: 'x' }, {})).rejects.toMatchObject({ code: 'MAYBE_APPLIED' });
      expect(calls).toBe(1);
      calls = 0;
      await expect(askDelivered(answer('NOT_OWNER'), { kind: 'counter', id: 'x' }, {})).rejects.toMatchObject({ code: 'NOT_OWNER' });
      expect(calls).toBeGreaterThan(1);
      const wire = toClientError(Object.assign(new Error('may have been applied'), { code: 'MAYBE_APPLIED' }));
      expect(wire.code).toBe('MAYBE_APPLIED');
      expect(retryableCodes.has(wire.code)).toBe(false);
    });

    it('drops a duplicate envelope at an active actor', async () => {
      n++;
      const p = prefix();
      const h = await startHost(env, { kinds: [counterKind], clock: systemClock, prefix: p });
      hosts.push(h);
      const c = await client(p);
      const id = { kind: 'counter', id: 'dup-1' };
      expect(await c.ask(id, { type: 'inc' })).toBe(1); // active now
      const env1 = encodeEnvelope({ m: { type: 'inc' }, s: 'replayer', q: Date.now() * 1000 });
      c.bus.publish(c.subjectOf(id), env1);
      c.bus.publish(c.subjectOf(id), env1);
      c.bus.publish(c.subjectOf(id), env1);
      expect(await c.ask(id, { type: 'get' })).toMatchObject({ count: 2 });
      expect(h.metrics.duplicates).toBe(2);
    });
  });
}
