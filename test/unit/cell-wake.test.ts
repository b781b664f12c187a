/**
 * Dormant actors (adopted from a migration, not restored yet) are woken by the host in batches, not inside the
 * delivery of their first message. Per-actor order must survive that, and a dormant actor handed over again before
 * its wake-up must take the messages that arrived meanwhile with it.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { ActorCell, type CellImage } from '../../actors/runtime/cell.js';
import type { CellContext } from '../../actors/runtime/cell-context.js';
import type { Envelope } from '../../actors/runtime/envelope.js';
import { newRuntimeMetrics } from '../../actors/runtime/metrics.js';
import { persistedSnapshot } from '../../actors/runtime/persisted.js';
import { tallyKind } from '../../actors/demo/ledger.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { WakeQueue } from '../../actors/runtime/wake-queue.js';

function stubContext() {
  const toWake: Array<{ wake(): void }> = [];
  const urgent: boolean[] = [];
  const replies: unknown[] = [];
  const ctx = {
    nodeId: 'n1',
    clock: new ManualClock(),
    log: silentLogger,
    client: { now: Date.now } as unknown as CellContext['client'],
    taps: { active: false } as CellContext['taps'],
    limits: { mailboxLimit: 100, maxRestarts: 3, restartWindowMs: 10_000, passivateAfterMs: 60_000, askTimeoutMs: 1000 },
    metrics: newRuntimeMetrics(),
    effects: {
      respond: (_msg, reply) => void replies.push(reply),
      push: () => undefined,
    },
    home: {
      removed: () => undefined,
      park: () => undefined,
      redeliver: () => undefined,
      wakeLater: (cell, u) => {
        toWake.push(cell);
        urgent.push(u === true);
      },
    },
  } satisfies CellContext;
  return { ctx, toWake, urgent, replies };
}

/** A ledger that has applied `n` messages from sender 's', as a hand-over image with its dedupe marks. */
function ledgerImage(n: number): { image: CellImage; seen: Array<[string, number]> } {
  const a = createActor(tallyKind.machine).start();
  for (let i = 0; i < n; i++) a.send({ type: 'inc', from: 's', n: i });
  const seen: Array<[string, number]> = [['s', n]];
  return { image: { record: { v: 1, s: persistedSnapshot(a) as never, t: [], d: seen }, revision: 0, queued: [] }, seen };
}

/** A tally cell adopted dormant with that image; `restores()` counts how often its image was read. */
function dormantLedger(id: string, applied: number) {
  const { ctx, toWake, urgent, replies } = stubContext();
  const cell = new ActorCell(ctx, tallyKind, id);
  const { image, seen } = ledgerImage(applied);
  let reads = 0;
  cell.setDormant(() => {
    reads++;
    return structuredClone(image);
  }, seen);
  return { ctx, toWake, urgent, replies, cell, restores: () => reads };
}

const inc = (n: number, q: number): [Envelope, { subject: string; data: Uint8Array }] => [
  { m: { type: 'inc', from: 's', n }, s: 's', q },
  { subject: 'x', data: new Uint8Array(0) },
];

describe('dormant actor wake-up', () => {
  it('queues the first message and restores only when the host wakes it; order is kept', () => {
    const { ctx, toWake, cell, restores } = dormantLedger('t1', 2);

    cell.deliver(...inc(1, 2)); // already applied by the old owner: dropped without a restore
    expect(restores()).toBe(0);
    expect(ctx.metrics.duplicates).toBe(1);
    cell.deliver(...inc(2, 3));
    cell.deliver(...inc(3, 4));
    expect(restores()).toBe(0);
    expect(cell.isDormant).toBe(true);
    expect(toWake).toEqual([cell]); // asked once, not once per message

    for (const c of toWake.splice(0)) c.wake();
    expect(restores()).toBe(1);
    expect(cell.isDormant).toBe(false);
    const snap = cell.image().record!.s as { context: { log: Array<[string, number]> } };
    expect(snap.context.log).toEqual([['s', 0], ['s', 1], ['s', 2], ['s', 3]]);
  });

  it('asks for an urgent wake-up when an asker waits, first message or later; order is still the mailbox order', () => {
    const a = dormantLedger('t3', 0);
    a.cell.deliver(...inc(0, 1));
    a.cell.deliver(...inc(1, 2));
    const get = { subject: 'x', data: new Uint8Array(0), reply: '_INBOX.1' };
    a.cell.deliver({ m: { type: 'get' } }, get);
    expect(a.urgent).toEqual([false, true]); // queued by the tell, hurried by the ask
    for (const c of a.toWake.splice(0)) c.wake(); // the second wake-up finds it awake: a no-op
    expect(a.restores()).toBe(1);
    expect(a.replies).toEqual([{ ok: true, v: { count: 2, log: [['s', 0], ['s', 1]] } }]);

    const b = dormantLedger('t4', 0);
    b.cell.deliver({ m: { type: 'get' } }, get);
    expect(b.urgent).toEqual([true]);
  });

  it('hands over a dormant actor still waiting for its wake-up with the messages that arrived meanwhile', async () => {
    const { toWake, cell, restores } = dormantLedger('t2', 1);
    cell.deliver(...inc(1, 2));
    cell.deliver(...inc(2, 3));

    const out = await cell.handOver();
    expect(out.queued.map((q) => q.env.q)).toEqual([2, 3]);
    expect(out.record!.d).toEqual([['s', 1]]);
    // The wake-up that was already queued finds the actor gone and does nothing.
    for (const c of toWake.splice(0)) c.wake();
    expect(restores()).toBe(1); // the image was read once, for the hand-over
    expect(cell.lifecycle.type).toBe('closed');
  });
});

describe('WakeQueue', () => {
  it('wakes a batch per scheduled turn, in order, and goes on past a failing wake-up', () => {
    const turns: Array<() => void> = [];
    const errors: unknown[] = [];
    const q = new WakeQueue((err) => errors.push(err), 3, (fn) => turns.push(fn));
    const woken: number[] = [];
    for (let i = 0; i < 7; i++) {
      q.push({
        wake: () => {
          if (i === 1) throw new Error('bad image');
          woken.push(i);
        },
      });
    }
    expect(turns).toHaveLength(1); // one turn scheduled, not one per actor
    turns.shift()!();
    expect(woken).toEqual([0, 2]);
    expect(errors).toHaveLength(1);
    expect(turns).toHaveLength(1);
    turns.shift()!();
    turns.shift()!();
    expect(woken).toEqual([0, 2, 3, 4, 5, 6]);
    expect(turns).toHaveLength(0);
    expect(q.length).toBe(0);
  });

  it('wakes urgent entries first, keeping a quarter of each batch for the others', () => {
    const turns: Array<() => void> = [];
    const q = new WakeQueue(() => undefined, 4, (fn) => turns.push(fn));
    const woken: string[] = [];
    const cell = (name: string) => ({ wake: () => void woken.push(name) });
    for (let i = 0; i < 3; i++) q.push(cell(`t${i}`));
    for (let i = 0; i < 5; i++) q.push(cell(`a${i}`), true);
    expect(q.length).toBe(8);
    turns.shift()!();
    expect(woken).toEqual(['a0', 'a1', 'a2', 't0']);
    turns.shift()!();
    expect(woken.slice(4)).toEqual(['a3', 'a4', 't1', 't2']); // urgent lane empty: the rest of the batch goes to tells
    expect(turns).toHaveLength(0);
    q.push(cell('a5'), true);
    q.push(cell('a6'), true);
    turns.shift()!();
    expect(woken.slice(8)).toEqual(['a5', 'a6']); // nothing else waiting: no reserve
  });

  it('holds a cell once in the urgent lane however many asks hurry it, and again after it was taken', () => {
    const turns: Array<() => void> = [];
    const q = new WakeQueue(() => undefined, 16, (fn) => turns.push(fn));
    let wakes = 0;
    const hot = { wake: () => void wakes++ };
    for (let i = 0; i < 100; i++) q.push(hot, true);
    expect(q.length).toBe(1);
    turns.shift()!();
    expect(wakes).toBe(1);
    q.push(hot, true);
    expect(q.length).toBe(1);
  });
});
