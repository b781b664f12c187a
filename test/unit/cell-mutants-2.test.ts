/**
 * The actor cell (actors/runtime/cell.ts), second part: the paths the first Stryker runs left unchecked (see
 * cell-mutants.test.ts for the first). Activation (touch with an input, a load that fails, a cell closed while its
 * state loads, a stored state that cannot start, a missing actor refused), passivation and `forget`, writes failing in
 * a timer's turn (no message to answer), hand-overs that wait for a load or meet a close, the batch timer, and what
 * the cell logs for each failure (operators find these lines; a failure that logs nothing is a bug there too).
 * Stub context, scripted store, ManualClock; no sleeps.
 */
import { emit, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ActorCell, type CellImage } from '../../actors/runtime/cell.js';
import type { Effect } from '../../actors/runtime/effects.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { ErrorCode } from '../../common/errors.js';
import { counterMachine, tallyKind } from '../support/test-kinds.js';
import { scriptedStore, stubContext, withStore, ask, tell, inc, get, settle, countOf, rec } from './cell-harness.js';

const snapKind = defineKind({ name: 'snap', machine: counterMachine, persistence: 'snapshot' });
const batchedKind = defineKind({ name: 'batched', machine: counterMachine, persistence: { batchMs: 100 } });
const notFound = { code: ErrorCode.NotFound, message: 'no such thing' };
const ifMissing = (m: unknown) => ((m as { type: string }).type === 'get' ? notFound : undefined);
const lookupKind = defineKind({ name: 'lookup', machine: counterMachine, persistence: 'snapshot', ifMissing });
/** Started from an input (the node's for a pinned actor, else the kind's): `n` is what it was given. */
const inputMachine = setup({
  types: {} as { context: { n: number }; input: { n: number } | undefined; events: { type: 'get' } | { type: 'end' }; emitted: Effect },
}).createMachine({
  context: ({ input }) => ({ n: input?.n ?? -1 }),
  initial: 'on',
  states: { on: { on: { end: 'off' } }, off: { type: 'final' } },
  on: { get: { actions: emit(({ context }) => ({ type: 'reply', body: context.n })) } },
});
const inputKind = defineKind({ name: 'input', machine: inputMachine, persistence: 'snapshot', input: () => ({ n: 1 }) });
/** In memory, no canPassivate: it may leave only once its machine is done. */
const finiteKind = defineKind({ name: 'finite', machine: inputMachine, persistence: 'none' });

describe('actor cell: activation', () => {
  it('touch(input) starts the machine from that input, kept when touched again before the load ends; a live cell is not restarted', async () => {
    const { ctx, replies } = withStore();
    const cell = new ActorCell(ctx, inputKind, 'p');
    cell.touch({ n: 5 });
    cell.touch(); // its load is in flight: the input given stays
    await settle();
    cell.deliver(get, ask(get));
    expect(replies.map((r) => r.body)).toEqual([{ ok: true, v: 5 }]);
    const plain = new ActorCell(ctx, inputKind, 'q');
    plain.touch();
    await settle();
    plain.deliver(get, ask(get, '_INBOX.2'));
    expect(replies[1]!.body).toEqual({ ok: true, v: 1 }); // the kind's input

    const live = new ActorCell(ctx, tallyKind, 'l');
    live.touch();
    live.deliver(inc(1), tell());
    live.touch();
    expect(countOf(live.image()).count).toBe(1);
    expect(ctx.metrics.activations).toBe(3);
  });

  it('touching a dormant cell wakes it through the host (not urgent); it is busy and reads as its image meanwhile', () => {
    const { ctx, wakes, redelivered } = stubContext();
    const img: CellImage = { record: rec(4), revision: 2, queued: [] };
    const cell = new ActorCell(ctx, tallyKind, 'd');
    cell.setDormant(() => structuredClone(img));
    cell.touch();
    expect(cell.lifecycle.type).toBe('waking');
    expect(wakes).toEqual([false]);
    expect(cell.busy).toBe(true);
    expect(cell.image()).toEqual(img);
    cell.passivate(); // a task queued while waking: it waits for the wake-up, asks for no urgent one
    expect(wakes).toEqual([false]);
    cell.wake();
    expect(ctx.metrics.wakes).toBe(0); // migrated, not hibernated here
    expect(cell.lifecycle.type).toBe('closed');
    expect(redelivered).toEqual([]);
  });

  it('a dormant or waking cell drops replayed duplicates before queueing; a live one with a full mailbox answers BUSY', async () => {
    const { ctx, replies, logged } = stubContext(scriptedStore().store);
    const cell = new ActorCell(ctx, tallyKind, 'w');
    cell.setDormant(() => ({ record: rec(0), revision: 0, queued: [] }), [['s', 5]]);
    cell.deliver(inc(5), tell());
    cell.deliver(inc(6), tell()); // waking now
    cell.deliver(inc(4), tell());
    expect(cell.queued).toBe(1);
    expect(ctx.metrics.duplicates).toBe(2);

    const live = new ActorCell(ctx, snapKind, 'f');
    live.deliver(inc(1), tell());
    await settle();
    live.deliver(inc(2), tell()); // its write is in flight
    for (let q = 3; q <= 5; q++) live.deliver(inc(q), tell());
    live.deliver(inc(1), ask(inc(1)));
    expect(replies.map((r) => (r.body as { e: { code: string } }).e.code)).toEqual([ErrorCode.Busy]);
    live.deliver(inc(6), tell());
    expect(logged('mailbox full: tell dropped').limit).toBe(3);
  });

  it('messages that arrive while the state loads wait for it; a durable kind without a store refuses to activate', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'ld');
    s.loadNext({ record: rec(10), revision: 4 });
    cell.deliver(inc(1), tell());
    cell.deliver(inc(2), tell());
    await settle();
    expect(countOf(cell.image()).count).toBe(12);
    expect(cell.revision).toBe(2); // the store's second write
    const bare = new ActorCell(stubContext().ctx, snapKind, 'b');
    expect(() => bare.touch()).toThrow('kind snap is durable but no store is configured');
  });

  it('a load that fails answers the queued asks STORE_ERROR and logs; a cell closed while loading never starts', async () => {
    const { s, ctx, replies, logged, events } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'lf');
    s.loadNext('reject');
    cell.deliver(inc(1), ask(inc(1)));
    await settle();
    expect(replies.map((r) => r.body)).toEqual([
      { ok: false, e: { code: ErrorCode.StoreError, message: 'cannot load state of snap/lf: disk on fire' } },
    ]);
    expect(cell.lifecycle.type).toBe('closed');
    expect((logged('cannot load stored state; failing queued requests').err as { message: string }).message).toBe('disk on fire');

    const fenced = new ActorCell(ctx, snapKind, 'fc');
    fenced.touch();
    fenced.close();
    await settle();
    expect(fenced.lifecycle.type).toBe('closed');
    expect(ctx.metrics.activations).toBe(0);
    expect(events).toEqual([]);
  });

  it('a stored state that cannot start answers ACTOR_FAILED and logs why', async () => {
    const { s, ctx, replies, logged } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'bad');
    s.loadNext({ record: { ...rec(1), t: [0] } as never, revision: 3 }); // a timer entry that is not one
    cell.deliver(inc(1), ask(inc(1)));
    await settle();
    expect(cell.lifecycle.type).toBe('closed');
    const e = (replies[0]!.body as { e: { code: string; message: string } }).e;
    expect(e.code).toBe(ErrorCode.ActorFailed);
    expect(e.message).toMatch(/^snap\/bad cannot start: .+/);
    expect(logged('cannot start actor from its state').err).toBeDefined();
    expect(ctx.metrics.activations).toBe(0);
  });

  it('a kind with ifMissing answers for an actor never stored, and starts one that is stored', async () => {
    const { s, ctx, replies } = withStore();
    const missing = new ActorCell(ctx, lookupKind, 'm');
    missing.deliver(get, ask(get));
    await settle();
    expect(replies[0]!.body).toEqual({ ok: false, e: notFound });
    expect(missing.lifecycle.type).toBe('closed');
    expect(ctx.metrics.activations).toBe(0);
    const created = new ActorCell(ctx, lookupKind, 'c');
    created.deliver(inc(1), ask(inc(1), '_INBOX.2')); // a write creates it
    await settle();
    expect(replies[1]!.body).toEqual({ ok: true, v: 1 });
    const stored = new ActorCell(ctx, lookupKind, 's');
    s.loadNext({ record: rec(4), revision: 2 });
    stored.deliver(get, ask(get, '_INBOX.3'));
    await settle();
    expect(replies[2]!.body).toEqual({ ok: true, v: { count: 4, fired: 0, log: [] } });
    expect(ctx.metrics.activations).toBe(2);
  });
});

describe('actor cell: leaving memory', () => {
  it('passivates a live batched actor through its mailbox: written first, not deleted; a new cell starts and leaves', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, batchedKind, 'pv');
    cell.deliver(inc(1), tell());
    await settle();
    cell.passivate();
    await settle();
    expect(s.saves.map((x) => [x.id, x.count])).toEqual([['pv', 1]]);
    expect(s.removes).toEqual([]);
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.passivations).toBe(1);
    expect(ctx.clock.pending).toBe(0); // the batch timer went with it
    await cell.deactivate(false); // closed already: nothing more
    expect(ctx.metrics.passivations).toBe(1);
    const fresh = new ActorCell(ctx, tallyKind, 'nw');
    fresh.passivate();
    expect(fresh.lifecycle.type).toBe('closed');
  });

  it('forget deletes only a stored, live actor; a failed delete is logged and it leaves anyway; a stopped one writes nothing', async () => {
    const { s, ctx, logged } = withStore();
    const unsaved = new ActorCell(ctx, snapKind, 'u');
    unsaved.touch();
    await settle();
    await unsaved.deactivate(true); // never written (revision 0): nothing to delete
    const stopped = new ActorCell(ctx, snapKind, 'st');
    stopped.deliver(inc(1), tell());
    await settle();
    stopped.escalate();
    await stopped.deactivate(true);
    expect(s.removes).toEqual([]);
    const kept = new ActorCell(ctx, snapKind, 'k');
    kept.deliver(inc(1), tell());
    await settle();
    s.failRemoves();
    await kept.deactivate(true);
    expect((logged('could not delete stored state').err as { message: string }).message).toBe('delete refused');
    expect(kept.lifecycle.type).toBe('closed');
    expect(ctx.metrics.passivations).toBe(3);
    const batched = new ActorCell(ctx, batchedKind, 'sb');
    batched.deliver(inc(1), tell());
    await settle();
    batched.escalate();
    await batched.deactivate(false); // stopped: its batched changes are not written
    expect(s.saves.map((x) => x.id)).toEqual(['st', 'k']);
  });

  it('idleness: never for a cell not started; without canPassivate only a durable or finished actor may leave', () => {
    const { ctx } = stubContext(scriptedStore().store);
    const later = ctx.clock.now() + 600_000;
    expect(new ActorCell(ctx, tallyKind, 'n').idleSince(later)).toBe(false);
    const finite = new ActorCell(ctx, finiteKind, 'f');
    finite.touch();
    expect(finite.pendingTimers).toBe(0);
    expect(finite.idleSince(later)).toBe(false);
    finite.deliver({ m: { type: 'end' } }, tell());
    expect(finite.idleSince(later)).toBe(true);
    const durable = new ActorCell(ctx, snapKind, 'd');
    durable.restore({ record: rec(2), revision: 1, queued: [] });
    expect(durable.idleSince(later)).toBe(true);
    const armed = new ActorCell(ctx, tallyKind, 'a');
    armed.deliver({ m: { type: 'arm', ms: 1000 } }, tell());
    expect(armed.pendingTimers).toBe(1);
  });

  it('hibernates only a live cell; hibernating without a lifecycle hook is fine', () => {
    const { ctx } = stubContext(undefined, false);
    const later = ctx.clock.now() + 600_000;
    const stopped = new ActorCell(ctx, tallyKind, 's');
    stopped.touch();
    stopped.escalate();
    expect(stopped.mayHibernate(later, 0)).toBe(false);
    const live = new ActorCell(ctx, tallyKind, 'l');
    live.deliver(inc(1), tell());
    expect(live.mayHibernate(later, 0)).toBe(true);
    live.hibernate();
    expect(live.isDormant).toBe(true);
    expect(ctx.metrics.hibernations).toBe(1);
  });

  it('restores an image with its queued messages (handed back on close like any other); only a dirty batched image is written again', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, batchedKind, 'r');
    cell.restore({ record: rec(3), revision: 2, queued: [{ env: inc(1), msg: tell() }] });
    expect(countOf(cell.image()).count).toBe(4);
    expect(cell.image().dirty).toBe(true); // its own turn since
    const clean = new ActorCell(ctx, batchedKind, 'c');
    clean.restore({ record: rec(3), revision: 2, queued: [] });
    const snap = new ActorCell(ctx, snapKind, 'x');
    snap.restore({ record: rec(3), revision: 2, queued: [], dirty: true });
    expect(ctx.clock.pending).toBe(1); // the first cell's batch only
    ctx.clock.advance(100);
    await settle();
    expect(s.saves.map((x) => x.id)).toEqual(['r']);
    // Restored messages are messages like any other: one waiting behind a write in flight goes back to the host.
    const { ctx: c2, redelivered } = withStore();
    const queued = new ActorCell(c2, snapKind, 'q');
    queued.restore({ record: rec(0), revision: 1, queued: [1, 2].map((q) => ({ env: inc(q), msg: tell() })) });
    queued.close();
    expect(redelivered.map((e) => e.q)).toEqual([2]);
  });

  it('one batch timer however many changes; a close clears it', () => {
    const { ctx } = stubContext(scriptedStore().store);
    const cell = new ActorCell(ctx, batchedKind, 'bt');
    cell.restore({ record: rec(0), revision: 1, queued: [] });
    cell.deliver(inc(1), tell());
    cell.deliver(inc(2), tell());
    expect(ctx.clock.pending).toBe(1);
    cell.close();
    expect(ctx.clock.pending).toBe(0);
  });
});

describe('actor cell: writes failing in a turn without an asker', () => {
  /** A durable counter armed (its timer written), whose timer's turn then writes with this failure. */
  async function firedWith(failure: string) {
    const s = scriptedStore();
    const c = stubContext(s.store);
    const cell = new ActorCell(c.ctx, snapKind, 't');
    cell.deliver({ m: { type: 'arm', ms: 50 } }, tell());
    await settle();
    s.failNext(failure);
    c.ctx.clock.advance(50);
    await settle();
    return { cell, ...c };
  }

  it('refused: rolled back (timer restored), logged', async () => {
    const { cell, logged } = await firedWith(ErrorCode.StoreError);
    expect(cell.lifecycle.type).toBe('active');
    expect(countOf(cell.image()).fired).toBe(0);
    expect(cell.pendingTimers).toBe(1);
    expect(logged('snapshot write failed: rolling back the turn')).toMatchObject({ event: expect.any(String), err: expect.anything() });
  });

  it('outcome unknown: it leaves, logged', async () => {
    const { cell, logged, ctx } = await firedWith(ErrorCode.Timeout);
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.maybeApplied).toBe(1);
    expect(logged('snapshot write outcome unknown: answering MAYBE_APPLIED and reloading')).toMatchObject({ event: expect.any(String), err: expect.anything() });
  });

  it('fenced: it leaves, logged with its revision; a fenced ask whose message cannot be read hears NOT_OWNER at once', async () => {
    const { cell, logged, ctx } = await firedWith('conflict');
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.fenced).toBe(1);
    expect(logged('snapshot write fenced: a newer instance owns this actor; leaving')).toMatchObject({ revision: 1, event: expect.any(String) });
    const s = scriptedStore();
    const c = stubContext(s.store);
    const asked = new ActorCell(c.ctx, snapKind, 'a');
    s.failNext('conflict');
    asked.deliver(inc(1), { subject: 'x', data: new Uint8Array(0), reply: '_INBOX.9' });
    await settle();
    expect(c.replies.map((r) => r.body)).toEqual([{ ok: false, e: { code: ErrorCode.NotOwner, message: 'snap/a moved; retry' } }]);
    const told = new ActorCell(c.ctx, snapKind, 'b');
    s.failNext('conflict');
    told.deliver(inc(1), tell());
    await settle();
    expect(told.lifecycle.type).toBe('closed');
  });

  it('a failed batched write is logged and retried', async () => {
    const { s, ctx, logged } = withStore();
    const cell = new ActorCell(ctx, batchedKind, 'bf');
    s.failNext(ErrorCode.StoreError);
    cell.deliver(inc(1), tell());
    await settle();
    ctx.clock.advance(100);
    await settle();
    expect((logged('batched snapshot write failed; will retry').err as { message: string }).message).toBe('scripted STORE_ERROR');
    expect(ctx.clock.pending).toBe(1);
  });
});

describe('actor cell: hand-over meeting a load or a close', () => {
  it('waits for a load in flight, then hands over the loaded state', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'hl');
    s.loadNext({ record: rec(6), revision: 2 });
    cell.touch();
    expect(cell.handOverNow()).toBeUndefined();
    const image = await cell.handOver();
    expect([countOf(image).count, image.revision]).toEqual([6, 2]);
  });

  it('a load that fails hands over no state, with the queued messages', async () => {
    const { s, ctx, replies } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'hf');
    s.loadNext('reject');
    cell.deliver(inc(1), ask(inc(1)));
    let image: CellImage | undefined;
    void cell.handOver().then((i) => (image = i));
    await settle();
    expect(image?.record).toBeNull();
    expect(image?.queued.map((q) => q.env.q)).toEqual([1]);
    expect(replies).toEqual([]);
  });

  it('a close during the turn gives the waiting hand-over the queued messages, not the tasks', async () => {
    const { ctx, redelivered } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'hc');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(inc(2), tell()); // its write is in flight
    cell.passivate(); // a task queued
    cell.deliver(inc(3), tell());
    let image: CellImage | undefined;
    void cell.handOver().then((i) => (image = i));
    cell.close();
    await settle();
    expect(image?.queued.map((q) => q.env.q)).toEqual([3]);
    expect(redelivered).toEqual([]);
  });

  it('after the turn hands over only the messages; a close with an error answers the asks and skips the tasks', async () => {
    const { ctx, replies } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'ht');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(inc(2), tell());
    cell.passivate();
    cell.deliver(inc(3), tell());
    const image = await cell.handOver();
    expect(image.queued.map((q) => q.env.q)).toEqual([3]);

    const failing = new ActorCell(ctx, snapKind, 'he');
    failing.deliver(inc(1), tell());
    await settle();
    failing.deliver(inc(2), tell());
    failing.passivate();
    failing.deliver(inc(3), ask(inc(3), '_INBOX.e'));
    const e = { code: ErrorCode.StoreError, message: 'gone' };
    failing.close(e);
    expect(replies).toEqual([{ reply: '_INBOX.e', body: { ok: false, e } }]);
  });

  it('a hand-over of a live armed actor stops its timer here', () => {
    const { ctx } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'tm');
    cell.deliver({ m: { type: 'arm', ms: 1000 } }, tell());
    expect(ctx.clock.pending).toBe(1);
    const image = cell.handOverNow()!;
    expect(image.record!.t).toHaveLength(1);
    expect(ctx.clock.pending).toBe(0);
  });
});
