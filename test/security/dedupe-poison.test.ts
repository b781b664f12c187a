/**
 * Attack: dedupe-mark poisoning. A bus user publishes one envelope into an actor's inbox under another sender's id
 * (a gateway's or a worker's) with `q = Number.MAX_SAFE_INTEGER`. Before the bound the actor recorded that mark and
 * dropped every later message of the real sender as a duplicate, forever (the marks persist with the snapshot).
 * Now a sequence far ahead of the wall clock is refused, counted (`seqRefused`) and logged, never recorded; true
 * duplicates are still dropped (the live-migration property tests: test/cluster/migration.test.ts).
 * Without a worker or gateway NATS identity the publish itself is refused (test/security/nats-permissions.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { decodeReply, encodeEnvelope } from '../../actors/runtime/envelope.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import { DEFAULT_SEQ_AHEAD_MS, SEQ_PER_MS, seqTooFarAhead } from '../../actors/runtime/seen.js';
import type { Bus } from '../../bus/bus.js';
import { shardOf, subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { memoryImpl, type Env } from '../support/impls.js';
import { captureLogger, startHost, TEST_LIMITS } from '../support/hosts.js';
import { counterKind } from '../support/test-kinds.js';

describe('dedupe-mark poisoning (security)', () => {
  let env: Env;
  let host: ActorHost;
  let client: ActorClient;
  let attacker: Bus;
  const logged = captureLogger();
  beforeAll(async () => {
    env = await memoryImpl.setup();
    host = await startHost(env, { kinds: [counterKind], clock: new ManualClock(), prefix: 'dp', log: logged.log });
    client = new ActorClient(await env.connect('dp'), { shards: TEST_LIMITS.shards, askTimeoutMs: 2000 });
    attacker = await env.connect('dp');
  });
  afterAll(async () => {
    await host?.stop();
    await env?.teardown();
  });

  const forge = (id: string, sender: string, q: number, m: unknown = { type: 'inc' }) =>
    attacker.publish(subjects.actor('counter', shardOf(id, TEST_LIMITS.shards), id), encodeEnvelope({ m, s: sender, q }));

  it('a forged MAX_SAFE_INTEGER sequence under a real sender id does not silence the actor', async () => {
    const id = 'victim-1';
    expect(await client.ask<number>({ kind: 'counter', id }, { type: 'inc' })).toBe(1);
    forge(id, client.senderId, Number.MAX_SAFE_INTEGER);
    // Before the bound this ask was dropped as a duplicate (seq ≤ MAX) and timed out.
    expect(await client.ask<number>({ kind: 'counter', id }, { type: 'inc' })).toBe(2);
    expect(await client.ask({ kind: 'counter', id }, { type: 'get' })).toMatchObject({ count: 2 });
    expect(host.metrics.seqRefused).toBe(1);
    expect(logged.lines.some((l) => String(l.msg).includes('far ahead') && l.seq === Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it("a forged sender's first message to an actor is bounded too", async () => {
    const id = 'victim-2';
    forge(id, client.senderId, Number.MAX_SAFE_INTEGER);
    forge(id, client.senderId, (Date.now() + 10 * DEFAULT_SEQ_AHEAD_MS) * SEQ_PER_MS);
    expect(await client.ask<number>({ kind: 'counter', id }, { type: 'inc' })).toBe(1);
    expect(host.metrics.seqRefused).toBe(3);
  });

  it('an ask with a far-ahead sequence gets BAD_MESSAGE, not silence', async () => {
    const id = 'victim-3';
    const res = await attacker.request(
      subjects.actor('counter', shardOf(id, TEST_LIMITS.shards), id),
      encodeEnvelope({ m: { type: 'inc' }, s: 'someone', q: Number.MAX_SAFE_INTEGER }),
      { timeoutMs: 2000 },
    );
    expect(decodeReply(res.data)).toMatchObject({ ok: false, e: { code: 'BAD_MESSAGE' } });
  });

  it('true duplicates are still dropped', async () => {
    const id = 'victim-4';
    const q = Date.now() * SEQ_PER_MS;
    forge(id, 'replayer', q);
    forge(id, 'replayer', q);
    forge(id, 'replayer', q - 5);
    const before = host.metrics.duplicates;
    expect(await client.ask({ kind: 'counter', id }, { type: 'get' })).toMatchObject({ count: 1 });
    expect(host.metrics.duplicates - before).toBe(2);
  });

  it('the bound: ahead of the later of the clock and the last mark, never behind', () => {
    const now = 1_700_000_000_000;
    const aheadUs = DEFAULT_SEQ_AHEAD_MS * SEQ_PER_MS;
    expect(seqTooFarAhead(now * SEQ_PER_MS, undefined, now)).toBe(false);
    expect(seqTooFarAhead(now * SEQ_PER_MS + aheadUs, undefined, now)).toBe(false);
    expect(seqTooFarAhead(now * SEQ_PER_MS + aheadUs + 1, undefined, now)).toBe(true);
    expect(seqTooFarAhead(Number.MAX_SAFE_INTEGER, 5, now)).toBe(true);
    // Small counters (old senders, benches) are far behind the clock: never refused.
    expect(seqTooFarAhead(7, 6, now)).toBe(false);
    // A sender that ran ahead of its clock legitimately (a burst) stays valid relative to its own last mark.
    expect(seqTooFarAhead(now * SEQ_PER_MS + aheadUs + 10, now * SEQ_PER_MS + aheadUs, now)).toBe(false);
  });

  it('client sequences follow the wall clock and stay strictly increasing', () => {
    let t = 1_000;
    const c = new ActorClient(attacker, { shards: 8, askTimeoutMs: 1000, now: () => t });
    const next = () => (c as unknown as { nextSeq(): number }).nextSeq();
    const a = next();
    const b = next();
    t = 2_000;
    expect(a).toBe(1_000 * SEQ_PER_MS);
    expect(b).toBe(a + 1);
    // The clock is read every 64th message: in between the sequence counts on, behind the clock (never ahead).
    for (let i = 2; i < 64; i++) expect(next()).toBe(a + i);
    const d = next();
    expect(d).toBe(2_000 * SEQ_PER_MS);
    t = 500; // the clock stepped back: still increasing
    for (let i = 1; i <= 64; i++) expect(next()).toBe(d + i);
  });
});
