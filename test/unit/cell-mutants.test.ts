/**
 * The actor cell (actors/runtime/cell.ts) and its answers without a turn (cell-answers.ts), against a stub context
 * and a scripted snapshot store, with an injected clock: the branches mutation testing found unchecked by the
 * runtime tests (mailbox limit, close with and without an error, batched writes, failed writes, idleness, hand-over
 * of a cell that never started).
 */
import { describe, expect, it } from 'vitest';
import { ActorCell } from '../../actors/runtime/cell.js';
import { conflictAnswer, missingAnswer, refusedUnwritten } from '../../actors/runtime/cell-answers.js';
import type { CellContext } from '../../actors/runtime/cell-context.js';
import { encodeEnvelope, type Envelope } from '../../actors/runtime/envelope.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { newRuntimeMetrics } from '../../actors/runtime/metrics.js';
import type { SnapshotStore, StoredActor } from '../../actors/runtime/snapshots.js';
import type { Item } from '../../actors/runtime/turn-owner.js';
import type { BusMsg } from '../../bus/bus.js';
import { ManualClock } from '../../common/clock.js';
import { ErrorCode, GatehouseError, type WireError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { counterMachine, tallyKind } from '../support/test-kinds.js';

type Saved = { id: string; record: StoredActor; expected: number };

/** A snapshot store whose next writes fail as scripted (an error code, or 'conflict'), and which records the rest. */
function scriptedStore() {
  const saves: Saved[] = [];
  const removes: Array<{ id: string; expected: number }> = [];
  const failures: string[] = [];
  let rev = 0;
  let stored: { record: StoredActor; revision: number } | null = null;
  /** Answers for the next loads, in order, before `stored` (an activation's load, then a conflict's re-read). */
  const loads: Array<{ record: StoredActor; revision: number } | null> = [];
  const store = {
    load: async () => (loads.length ? loads.shift()! : stored),
    save: async (_k: string, id: string, record: StoredActor, expected: number) => {
      const f = failures.shift();
      if (f === 'conflict') throw new GatehouseError(ErrorCode.Conflict, 'wrong last sequence');
      if (f) throw new GatehouseError(f as never, `scripted ${f}`);
      saves.push({ id, record: structuredClone(record), expected });
      return ++rev;
    },
    remove: async (_k: string, id: string, expected: number) => void removes.push({ id, expected }),
  };
  return {
    store: store as unknown as SnapshotStore,
    saves,
    removes,
    failNext: (...codes: string[]) => failures.push(...codes),
    setStored: (r: typeof stored) => (stored = r),
    loadNext: (...r: Array<{ record: StoredActor; revision: number } | null>) => loads.push(...r),
  };
}

function stubContext(snapshots?: SnapshotStore) {
  const replies: Array<{ msg: BusMsg; reply: unknown }> = [];
  const redelivered: Envelope[] = [];
  const removed: string[] = [];
  const ctx = {
    nodeId: 'n1',
    clock: new ManualClock(),
    log: silentLogger,
    client: { now: Date.now } as unknown as CellContext['client'],
    taps: { active: false } as CellContext['taps'],
    limits: { mailboxLimit: 3, maxRestarts: 3, restartWindowMs: 10_000, passivateAfterMs: 60_000, askTimeoutMs: 1000 },
    metrics: newRuntimeMetrics(),
    snapshots,
    effects: {
      respond: (msg, reply) => void replies.push({ msg, reply }),
      push: () => undefined,
    },
    home: {
      removed: (_k, id) => void removed.push(id),
      park: () => undefined,
      redeliver: (_k, _id, env) => void redelivered.push(env),
      wakeLater: () => undefined,
    },
  } satisfies CellContext;
  return { ctx, replies, redelivered, removed };
}

const ask = (reply = '_INBOX.1'): BusMsg => ({ subject: 'x', data: new Uint8Array(0), reply });
const tell = (): BusMsg => ({ subject: 'x', data: new Uint8Array(0) });
const inc = (q: number): Envelope => ({ m: { type: 'inc', from: 's', n: q }, s: 's', q });
/** Lets the promise callbacks of a durable turn (store writes) run: waits for events, not for time. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const batchedKind = defineKind({ name: 'batched', machine: counterMachine, persistence: { batchMs: 100 } });
const snapshotKind = defineKind({ name: 'snap', machine: counterMachine, persistence: 'snapshot' });

describe('cell-answers: what a cell answers without a turn', () => {
  it('counts only NO_RESPONDERS, STORE_ERROR and BAD_KEY as provably unwritten', () => {
    for (const code of [ErrorCode.NoResponders, ErrorCode.StoreError, ErrorCode.BadKey]) {
      expect(refusedUnwritten(new GatehouseError(code, 'x'))).toBe(true);
    }
    for (const code of [ErrorCode.Timeout, ErrorCode.BusError, ErrorCode.Closed, ErrorCode.Conflict]) {
      expect(refusedUnwritten(new GatehouseError(code, 'x'))).toBe(false);
    }
    expect(refusedUnwritten(new Error('plain'))).toBe(false);
  });

  it('answers a missing actor only when its kind answers every waiting message', () => {
    const notFound: WireError = { code: ErrorCode.NotFound, message: 'no such player' };
    const ifMissing = (m: unknown) => ((m as { type: string }).type === 'get' ? notFound : undefined);
    const msg = (type: string): Item => ({ k: 'msg', env: { m: { type } }, msg: tell() });
    expect(missingAnswer({}, [msg('get')])).toBeUndefined(); // no ifMissing: start it
    expect(missingAnswer({ ifMissing }, [])).toBeUndefined(); // nothing waiting
    expect(missingAnswer({ ifMissing }, [msg('get'), msg('get')])).toEqual(notFound);
    expect(missingAnswer({ ifMissing }, [msg('get'), msg('set')])).toBeUndefined(); // a write creates it
    expect(missingAnswer({ ifMissing }, [msg('set'), msg('get')])).toBeUndefined();
    expect(missingAnswer({ ifMissing }, [msg('get'), { k: 'task', run: () => undefined }])).toBeUndefined();
  });

  it('answers a conflict NOT_OWNER unless the store shows this very message applied, cannot be read, or reads stale', async () => {
    const data = encodeEnvelope(inc(7));
    const store = (r: unknown, fail = false) => ({ load: async () => (fail ? Promise.reject(new Error('down')) : r) }) as never;
    const rec = (d: Array<[string, number]>) => ({ record: { v: 1, s: {}, t: [], d }, revision: 3 });
    const codeOf = async (a: WireError | Promise<WireError>) => (await a).code;
    // Nothing to read: answered at once, not as a promise.
    const undecodable = conflictAnswer(store(null), 'k', 'a', new Uint8Array([0xc1]), 2);
    expect(undecodable).toEqual({ code: ErrorCode.NotOwner, message: 'k/a moved; retry' });
    expect(conflictAnswer(store(null), 'k', 'a', encodeEnvelope({ m: {} }), 2)).toMatchObject({ code: ErrorCode.NotOwner });
    expect(conflictAnswer(store(null), 'k', 'a', encodeEnvelope({ m: {}, s: 's' }), 2)).toMatchObject({ code: ErrorCode.NotOwner });
    expect(conflictAnswer(store(null), 'k', 'a', encodeEnvelope({ m: {}, q: 7 }), 2)).toMatchObject({ code: ErrorCode.NotOwner });
    expect(conflictAnswer(undefined, 'k', 'a', data, 2)).toMatchObject({ code: ErrorCode.NotOwner });
    // Read first.
    expect(await conflictAnswer(store(rec([['s', 7]])), 'k', 'a', data, 2)).toEqual({
      code: ErrorCode.MaybeApplied,
      message: 'k/a: the update may have been applied',
    });
    expect(await codeOf(conflictAnswer(store(rec([['s', 8]])), 'k', 'a', data, 2))).toBe(ErrorCode.NotOwner); // a later one
    expect(await codeOf(conflictAnswer(store(rec([['s', 6]])), 'k', 'a', data, 2))).toBe(ErrorCode.NotOwner);
    expect(await codeOf(conflictAnswer(store(rec([['other', 7]])), 'k', 'a', data, 2))).toBe(ErrorCode.NotOwner);
    // A read no newer than the revision the write expected (or none) is stale: it cannot show whether the write landed.
    expect(await codeOf(conflictAnswer(store(null), 'k', 'a', data, 2))).toBe(ErrorCode.MaybeApplied);
    expect(await codeOf(conflictAnswer(store(rec([['s', 6]])), 'k', 'a', data, 3))).toBe(ErrorCode.MaybeApplied);
    expect(await codeOf(conflictAnswer(store(rec([['s', 6]])), 'k', 'a', data, 4))).toBe(ErrorCode.MaybeApplied);
    expect(await codeOf(conflictAnswer(store(null, true), 'k', 'a', data, 2))).toBe(ErrorCode.MaybeApplied);
  });
});

describe('actor cell', () => {
  it('refuses past the mailbox limit: an ask hears BUSY, a tell is dropped and counted', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'full');
    cell.setDormant(() => ({ record: null, revision: 0, queued: [] })); // queues without running a turn
    for (let q = 1; q <= 3; q++) cell.deliver(inc(q), tell());
    expect(cell.queued).toBe(3);
    cell.deliver(inc(4), ask());
    cell.deliver(inc(5), tell());
    expect(cell.queued).toBe(3);
    expect(replies.map((r) => r.reply)).toEqual([{ ok: false, e: { code: ErrorCode.Busy, message: 'tally/full mailbox is full' } }]);
    expect(ctx.metrics.busy).toBe(2);
    expect(ctx.metrics.droppedTells).toBe(1);
    expect(ctx.metrics.received).toBe(5);
  });

  it('on close answers the queued asks with the error given, or hands every queued message back to the host', () => {
    const a = stubContext();
    const failing = new ActorCell(a.ctx, tallyKind, 'a');
    failing.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    failing.deliver(inc(1), ask('_INBOX.a'));
    failing.deliver(inc(2), tell());
    const e = { code: ErrorCode.StoreError, message: 'gone' };
    failing.close(e);
    expect(a.replies.map((r) => [r.msg.reply, r.reply])).toEqual([['_INBOX.a', { ok: false, e }]]);
    expect(a.redelivered).toEqual([]);
    expect(failing.lifecycle.type).toBe('closed');
    expect(a.removed).toEqual(['a']);
    failing.close(e); // closed once
    expect(a.removed).toEqual(['a']);

    const b = stubContext();
    const plain = new ActorCell(b.ctx, tallyKind, 'b');
    plain.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    plain.deliver(inc(1), ask());
    plain.deliver(inc(2), tell());
    plain.close();
    expect(b.replies).toEqual([]);
    expect(b.redelivered.map((env) => env.q)).toEqual([1, 2]);
  });

  it('hands over a cell that never started as an empty image, and a closed one likewise', async () => {
    const { ctx } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'n');
    expect(cell.handOverNow()).toEqual({ record: null, revision: 0, queued: [] });
    cell.close();
    expect(await cell.handOver()).toEqual({ record: null, revision: 0, queued: [] });
  });

  it('a live idle cell hands over its state with its revision, and leaves', () => {
    const { ctx, removed } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'h');
    cell.deliver(inc(1), tell());
    expect(cell.lifecycle.type).toBe('active');
    const image = cell.handOverNow()!;
    expect((image.record!.s as { context: { count: number } }).context.count).toBe(1);
    expect(image.record!.d).toEqual([['s', 1]]);
    expect(image.queued).toEqual([]);
    expect(cell.lifecycle.type).toBe('closed');
    expect(removed).toEqual(['h']);
  });

  it('passivates when idle long enough and its kind allows it; a dormant image leaves at once', () => {
    const { ctx, removed } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'idle');
    cell.touch();
    expect(cell.lifecycle.type).toBe('active');
    const t0 = ctx.clock.now();
    expect(cell.idleSince(t0 + 59_999)).toBe(false);
    expect(cell.idleSince(t0 + 60_000)).toBe(true); // count 0: tallyKind.canPassivate
    cell.deliver(inc(1), tell());
    expect(cell.idleSince(t0 + 60_000)).toBe(false); // count 1: it must stay
    expect(cell.mayHibernate(t0 + 1000, 1000)).toBe(true);
    expect(cell.mayHibernate(t0 + 999, 1000)).toBe(false);

    const dormant = new ActorCell(ctx, tallyKind, 'd');
    dormant.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    expect(dormant.isDormant).toBe(true);
    expect(dormant.idleSince(t0 + 60_000)).toBe(false); // in-memory image never hibernated here: not known to be leavable
    dormant.passivate();
    expect(dormant.lifecycle.type).toBe('closed');
    expect(ctx.metrics.passivations).toBe(1);
    expect(removed).toEqual(['d']);
  });

  it('a durable dormant image may leave (it equals what is stored); a stopped cell may leave', () => {
    const { ctx } = stubContext(scriptedStore().store);
    const cell = new ActorCell(ctx, snapshotKind, 'dd');
    cell.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    expect(cell.idleSince(ctx.clock.now() + 60_000)).toBe(true);
    const stopped = new ActorCell(ctx, tallyKind, 'st');
    stopped.touch();
    stopped.deliver(inc(1), tell());
    stopped.escalate();
    expect(stopped.idleSince(ctx.clock.now() + 60_000)).toBe(true);
  });

  it('batched persistence: one write per batch, after batchMs on the injected clock; pending writes keep it in memory', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const cell = new ActorCell(ctx, batchedKind, 'b1');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(inc(2), tell());
    await settle();
    expect(cell.lifecycle.type).toBe('active');
    expect(s.saves).toEqual([]);
    const t = ctx.clock.now();
    expect(cell.idleSince(t + 60_000)).toBe(false); // a write is pending
    expect(cell.mayHibernate(t + 60_000, 1)).toBe(false);
    expect(cell.image().dirty).toBe(true);
    ctx.clock.advance(99);
    await settle();
    expect(s.saves).toEqual([]);
    ctx.clock.advance(1);
    await settle();
    expect(s.saves.map((x) => [x.id, x.expected, (x.record.s as { context: { count: number } }).context.count])).toEqual([['b1', 0, 2]]);
    expect(cell.revision).toBe(1);
    expect(ctx.metrics.persisted).toBe(1);
    expect(cell.image().dirty).toBe(false);
    expect(cell.mayHibernate(ctx.clock.now() + 60_000, 1)).toBe(true);
  });

  it('batched persistence: a failed write is retried a batch later; a fenced one closes the cell', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const cell = new ActorCell(ctx, batchedKind, 'b2');
    s.failNext(ErrorCode.Timeout);
    cell.deliver(inc(1), tell());
    await settle();
    ctx.clock.advance(100);
    await settle();
    expect(s.saves).toEqual([]);
    expect(cell.lifecycle.type).toBe('active');
    ctx.clock.advance(100);
    await settle();
    expect(s.saves).toHaveLength(1);

    s.failNext('conflict');
    cell.deliver(inc(2), tell());
    await settle();
    ctx.clock.advance(100);
    await settle();
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.fenced).toBe(1);
  });

  it('writes a passivating batched actor before it leaves, and deletes a forgotten durable one', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const cell = new ActorCell(ctx, batchedKind, 'b3');
    cell.deliver(inc(1), tell());
    await settle();
    await cell.deactivate(false);
    expect(s.saves).toHaveLength(1);
    expect(cell.lifecycle.type).toBe('closed');
    expect(s.removes).toEqual([]);

    const gone = new ActorCell(ctx, snapshotKind, 'g');
    gone.deliver(inc(1), tell());
    await settle();
    expect(gone.revision).toBe(2);
    await gone.deactivate(true);
    expect(s.removes).toEqual([{ id: 'g', expected: 2 }]);
    expect(ctx.metrics.passivations).toBe(2);
  });

  it("'snapshot' persistence: a refused write rolls the turn back and answers STORE_ERROR; the actor stays", async () => {
    const s = scriptedStore();
    const { ctx, replies } = stubContext(s.store);
    const cell = new ActorCell(ctx, snapshotKind, 'r');
    cell.deliver(inc(1), ask('_INBOX.1'));
    await settle();
    expect(replies.map((r) => r.reply)).toEqual([{ ok: true, v: 1 }]);
    s.failNext(ErrorCode.StoreError);
    cell.deliver(inc(2), ask('_INBOX.2'));
    await settle();
    expect(replies[1]!.reply).toEqual({ ok: false, e: { code: ErrorCode.StoreError, message: 'state of snap/r not saved: scripted STORE_ERROR' } });
    expect(cell.lifecycle.type).toBe('active');
    expect((cell.image().record!.s as { context: { count: number } }).context.count).toBe(1); // rolled back
  });

  it("'snapshot' persistence: a write of unknown outcome answers MAYBE_APPLIED and leaves; a fenced one NOT_OWNER", async () => {
    const s = scriptedStore();
    const { ctx, replies } = stubContext(s.store);
    const cell = new ActorCell(ctx, snapshotKind, 'u');
    s.failNext(ErrorCode.Timeout);
    cell.deliver(inc(1), ask('_INBOX.1'));
    await settle();
    expect(replies.map((r) => r.reply)).toEqual([{ ok: false, e: { code: ErrorCode.MaybeApplied, message: 'snap/u: the update may have been applied' } }]);
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.maybeApplied).toBe(1);

    const fenced = new ActorCell(ctx, snapshotKind, 'f');
    s.failNext('conflict');
    // The store shows a newer owner's record without this message (the conflict proven, not a stale read).
    s.loadNext(null, { record: { v: 1, s: {}, t: [], d: [] } as unknown as StoredActor, revision: 9 });
    fenced.deliver(inc(1), { ...ask('_INBOX.2'), data: encodeEnvelope(inc(1)) });
    await settle();
    expect(replies[1]!.reply).toEqual({ ok: false, e: { code: ErrorCode.NotOwner, message: 'snap/f moved; retry' } });
    expect(fenced.lifecycle.type).toBe('closed');
    expect(ctx.metrics.fenced).toBe(1);
    // A read that does not show the conflict (stale, or no record) cannot prove the write unapplied: MAYBE_APPLIED.
    const stale = new ActorCell(ctx, snapshotKind, 'g');
    s.failNext('conflict');
    stale.deliver(inc(1), { ...ask('_INBOX.3'), data: encodeEnvelope(inc(1)) });
    await settle();
    expect(replies[2]!.reply).toMatchObject({ ok: false, e: { code: ErrorCode.MaybeApplied } });
  });

  it('feeds the lifecycle hook: active at start, closed once when a live instance leaves, nothing for an image', () => {
    const { ctx } = stubContext();
    const events: string[] = [];
    const withHook = { ...ctx, lifecycle: (e: string, _k: string, id: string) => void events.push(`${e}:${id}`) } as CellContext;
    const live = new ActorCell(withHook, tallyKind, 'l');
    live.deliver(inc(1), tell());
    live.handOverNow();
    const stopped = new ActorCell(withHook, tallyKind, 's');
    stopped.touch();
    stopped.escalate();
    stopped.close();
    const image = new ActorCell(withHook, tallyKind, 'i');
    image.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    image.handOverNow();
    new ActorCell(withHook, tallyKind, 'n').close();
    expect(events).toEqual(['active:l', 'closed:l', 'active:s', 'closed:s']);
  });

  it('is busy while waking or loading, and a busy, queued or timed actor does not passivate', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const later = ctx.clock.now() + 600_000;
    const waking = new ActorCell(ctx, tallyKind, 'w');
    waking.setDormant(() => ({ record: null, revision: 0, queued: [] }));
    expect(waking.busy).toBe(false);
    waking.deliver(inc(1), tell()); // queued until the host wakes it
    expect(waking.busy).toBe(true);
    expect(waking.idleSince(later)).toBe(false);
    const loading = new ActorCell(ctx, snapshotKind, 'ld');
    loading.touch(); // its load is in flight
    expect(loading.lifecycle.type).toBe('starting');
    expect(loading.busy).toBe(true);
    await settle();
    expect(loading.busy).toBe(false);
    const timed = new ActorCell(ctx, tallyKind, 't');
    timed.deliver({ m: { type: 'arm', ms: 1000 } }, tell());
    expect(timed.busy).toBe(false);
    expect(timed.idleSince(later)).toBe(false); // its timer must fire here
  });

  it('hands over after the turn in progress (a write in flight), with the messages queued behind it', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const cell = new ActorCell(ctx, snapshotKind, 'ho');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(inc(2), tell()); // its write is in flight
    cell.deliver(inc(3), tell());
    expect(cell.handOverNow()).toBeUndefined();
    const image = await cell.handOver();
    expect((image.record!.s as { context: { count: number } }).context.count).toBe(2);
    expect(image.queued.map((q) => q.env.q)).toEqual([3]);
    expect(cell.lifecycle.type).toBe('closed');
  });

  it('reads a dormant image as it is, and restores an unsaved image as dirty (written a batch later)', async () => {
    const s = scriptedStore();
    const { ctx } = stubContext(s.store);
    const img = { record: { v: 1 as const, s: { status: 'active', value: {}, context: { count: 7, fired: 0, log: [] } } as never, t: [], d: [] }, revision: 3, queued: [] };
    const dormant = new ActorCell(ctx, batchedKind, 'dm');
    dormant.setDormant(() => structuredClone(img));
    expect(dormant.image()).toEqual(img);
    const restored = new ActorCell(ctx, batchedKind, 'rs');
    restored.restore({ ...structuredClone(img), dirty: true });
    expect(restored.image().dirty).toBe(true);
    ctx.clock.advance(100);
    await settle();
    expect(s.saves.map((x) => [x.id, x.expected])).toEqual([['rs', 3]]);
  });
});

