/**
 * The balancer under store errors (issue 14, test/hosts/nats-cutoff): a lease write that fails with something other
 * than a conflict (a lease stream electing its leader answers 503, a cut-off NATS server times out) while the leader
 * starts a move. startMove runs un-awaited, so such an error used to end as an unhandled rejection, which ends a Node
 * process: the leader worker exited during the cut in about one full-suite run of five.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../cluster/balancer.js';
import { LeaseTable } from '../../cluster/leases.js';
import { unitKey } from '../../cluster/allocation.js';
import type { NodeRecord } from '../../cluster/records.js';
import { createMemoryStore } from '../../bus/memory-store.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import type { KvBucket } from '../../bus/store.js';
import { ManualClock } from '../../common/clock.js';
import { GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';

const record = (id: string): NodeRecord => ({ id, roles: ['worker'], capacity: 1, draining: false, startedAt: 0, pid: 1, host: 'h', load: { actors: 0, shards: 0, msgsPerSec: 0 } });

describe('balancer: a store error while starting a move', () => {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  it('leaves the shard where it is and rejects nothing', async () => {
    process.on('unhandledRejection', onRejection);
    const store = createMemoryStore('bse');
    const inner = await store.bucket('shards');
    let failing = false;
    let failed = 0;
    let firstFailed!: () => void;
    const done = new Promise<void>((r) => (firstFailed = r));
    const bucket: KvBucket = Object.create(inner);
    bucket.update = async (key, value, expected) => {
      if (!failing) return inner.update(key, value, expected);
      failed++;
      queueMicrotask(firstFailed);
      throw new GatehouseError('STORE_ERROR', `update ${key}: no responders available for request (503)`);
    };
    const leases = new LeaseTable(bucket, silentLogger);
    await leases.start();
    const shards = 16;
    for (let shard = 0; shard < shards; shard++) await leases.write(unitKey({ kind: 'k', shard }), { o: 'a', st: 'owned', t: 0 }, 0);
    const bus = new MemoryBroker().connect({ prefix: 'bse' });
    const balancer = new Balancer(
      { bus, nodeId: 'a', log: silentLogger, clock: new ManualClock(), leases, pins: await store.bucket('pins'), kinds: () => ['k'], shards },
      { maxConcurrentMoves: 64, moveTimeoutMs: 30_000 },
    );
    failing = true;
    // b joined: about half of the shards should move to it, and every 'moving' write fails.
    await balancer.tick([record('a'), record('b')]);
    await done;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(failed).toBeGreaterThan(0);
    expect(rejections).toEqual([]);
    for (const [, { lease }] of leases.entries()) expect(lease).toMatchObject({ o: 'a', st: 'owned' });
    expect(balancer.movesInFlight).toBe(0);
    leases.stop();
    await bus.close();
  });
});
