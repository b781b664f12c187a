/**
 * The turn runner (actors/runtime/turn-runner.ts) in detail, written against the survivors of its first mutation run:
 * what it logs (and that a sound turn logs no error), tracing and the flight recorder, start effects and effects
 * emitted outside a turn, inputs, timers across a restart, ask chains, the other effects (push, error replies, failing
 * effects), persistence decisions, passivation with work queued, and when an actor may hibernate.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { assign, emit, fromPromise, setup } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { ActorCell } from '../../actors/runtime/cell.js';
import type { CellContext } from '../../actors/runtime/cell-context.js';
import type { Effect } from '../../actors/runtime/effects.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { ErrorCode } from '../../common/errors.js';
import { counterMachine, pulseKind, tallyKind } from '../support/test-kinds.js';
import { NOW_MS, ask, count, from, settle, stubContext, tell, values, type StubOptions } from './turn-runner-harness.js';

type Rec = { level: number; msg: string; [k: string]: unknown };

function logged(o: StubOptions = {}) {
  const records: Rec[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Rec);
      cb();
    },
  });
  const s = stubContext({ ...o, log: pino({ level: 'debug' }, stream) });
  const errors = () => records.filter((r) => r.level >= 50).map((r) => r.msg);
  return { ...s, records, errors };
}

/** A machine for the effect paths: each event emits one kind of effect; `wait` invokes a promise the test resolves. */
let resolveWait: (v: unknown) => void = () => undefined;
const effectMachine = setup({
  types: {} as { context: { n: number }; events: { type: string; [k: string]: unknown }; emitted: Effect },
  actors: { waiter: fromPromise(() => new Promise((r) => (resolveWait = r))) },
  delays: { soon: 10 },
}).createMachine({
  context: { n: 0 },
  entry: emit({ type: 'tell', to: { kind: 'log', id: 'start' }, msg: { type: 'started' } }),
  initial: 'idle',
  states: {
    idle: { on: { wait: 'waiting', arm: 'armed' } },
    waiting: {
      invoke: { src: 'waiter', onDone: { target: 'idle', actions: [emit({ type: 'note' } as never), emit({ type: 'tell', to: { kind: 'log', id: 'late' }, msg: {} })] } },
    },
    armed: { after: { soon: { target: 'idle', actions: [emit({ type: 'reply', body: 'tick' }), emit({ type: 'tell', to: { kind: 'log', id: 'tick' }, msg: {} })] } } },
  },
  on: {
    push1: { actions: emit({ type: 'push', to: { gw: 'g', conn: 1 } as never, route: 'r', body: 1 }) },
    pushN: { actions: emit({ type: 'push', to: [{ gw: 'g', conn: 2 }] as never, route: 'r', body: 2 }) },
    refuse: { actions: emit({ type: 'reply', error: { code: 'NOPE', message: 'no' } }) },
    both: { actions: [emit({ type: 'ask', to: { kind: 'x', id: '1' }, msg: 1, then: 'chain', timeoutMs: 250 }), emit({ type: 'tell', to: { kind: 'log', id: 'both' }, msg: {} })] },
    chain: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit(({ context }) => (context.n < 2 ? { type: 'ask', to: { kind: 'x', id: String(context.n + 1) }, msg: 1, then: 'chain' } : { type: 'reply', body: context.n }))] },
    badThen: { actions: emit({ type: 'ask', to: { kind: 'x', id: 'b' }, msg: 1, then: 'explode' }) },
    explode: { actions: () => { throw new Error('then failed'); } },
    rest: { actions: emit({ type: 'passivate' }) },
    bump: { actions: assign({ n: ({ context }) => context.n + 1 }) },
  },
});
const effectKind = defineKind({ name: 'fx', machine: effectMachine });
/** Waits on the promise from its start, before any turn. */
const waitingKind = defineKind({
  name: 'fw',
  machine: setup({ types: {} as { emitted: Effect }, actors: { waiter: fromPromise(() => new Promise((r) => (resolveWait = r))) } }).createMachine({
    initial: 'waiting',
    states: { waiting: { invoke: { src: 'waiter', onDone: { target: 'done', actions: emit({ type: 'tell', to: { kind: 'log', id: 'late' }, msg: {} }) } } }, done: {} },
  }),
});

describe('turn runner, in detail', () => {
  it('logs with the actor’s name; a crash, an escalation and refused or dropped messages say what and why', () => {
    const { ctx, records } = logged();
    const cell = new ActorCell(ctx, tallyKind, 'c');
    cell.deliver(from({ type: 'boom' }), tell());
    expect(records.find((r) => r.msg === 'actor crashed: restarting from its state before the failing message')).toMatchObject({ level: 40, actor: 'tally/c', event: 'boom', err: { message: 'boom requested' } });
    cell.deliver(from({ type: 'boom' }), tell());
    cell.deliver(from({ type: 'boom' }), tell());
    expect(records.find((r) => r.msg === 'actor keeps crashing: stopped')).toMatchObject({ level: 50, event: 'boom', crashes: 3, windowMs: 10_000 });
    const b = logged();
    const c2 = new ActorCell(b.ctx, tallyKind, 'd');
    c2.deliver(from({ nope: 1 }), tell());
    expect(b.records.find((r) => r.msg === 'bad message dropped')).toMatchObject({ level: 20, err: { message: 'message must be an object with a string "type"' } });
    c2.deliver(from(null), tell()); // an envelope whose message is null is a bad message too, not a runtime error
    expect(b.ctx.metrics.badMessages).toBe(2);
    expect(b.errors()).toEqual([]);
  });

  it('logs a refused far-ahead sequence once per 1000, and refuses one far past the sender’s own mark', () => {
    const { ctx, replies, records } = logged();
    const cell = new ActorCell(ctx, tallyKind, 'f');
    const bound = (NOW_MS + 60_000) * 1000;
    for (let i = 1; i <= 1001; i++) cell.deliver(from({ type: 'inc' }, bound + i), tell());
    const warns = records.filter((r) => r.msg === 'envelope sequence far ahead: refused, not recorded');
    expect(warns.map((r) => r.refused)).toEqual([1, 1001]);
    expect(warns[0]).toMatchObject({ sender: 's', seq: bound + 1 });
    cell.deliver(from({ type: 'inc' }, bound), ask());
    cell.deliver(from({ type: 'inc' }, bound + 60_000_000 + 1), ask()); // the mark is the reference now: one past it
    expect(values(replies)).toEqual([{ ok: true, v: 1 }, { ok: false, e: { code: ErrorCode.BadMessage, message: 'envelope sequence too far ahead' } }]);
  });

  it('records no mark for a message without a full identity', () => {
    const { ctx } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'n');
    cell.deliver(from({ type: 'inc' }), tell());
    expect(cell.image().record!.d).toEqual([]);
    cell.deliver({ m: { type: 'inc' }, s: 's' }, tell()); // a sender without a sequence
    cell.deliver({ m: { type: 'inc' }, q: 3 }, tell()); // a sequence without a sender
    expect(cell.image().record!.d).toEqual([]);
    expect(count(cell)).toBe(3);
  });

  it('never treats a sequence without a sender as a duplicate, nor marks it beside a real sender', () => {
    const { ctx } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'q');
    cell.deliver({ m: { type: 'inc' }, q: 3 }, tell());
    cell.deliver({ m: { type: 'inc' }, q: 3 }, tell()); // the same sequence again: no sender, so no mark to match
    cell.deliver(from({ type: 'inc' }, 1), tell());
    cell.deliver({ m: { type: 'inc' }, q: 2 }, tell());
    expect(ctx.metrics.duplicates).toBe(0);
    expect(count(cell)).toBe(4);
    expect(cell.image().record!.d).toEqual([['s', 1]]);
  });

  it('traces changed turns of a traced actor (asking once per taps version) and feeds the flight recorder', () => {
    const published: unknown[] = [];
    const asked: string[] = [];
    const rec = { active: true, begun: [] as string[], ended: [] as unknown[], begin: (_r: unknown, l: string) => rec.begun.push(l), end: (_r: unknown, crashed?: boolean) => rec.ended.push(crashed ?? false) };
    const taps = { active: true, version: 1, recorder: rec, isTraced: (_k: string, id: string) => (asked.push(id), id === 't'), publish: (r: unknown) => published.push(r) };
    const { ctx } = stubContext({ taps: taps as unknown as CellContext['taps'] });
    const cell = new ActorCell(ctx, tallyKind, 't');
    cell.deliver(from({ type: 'inc' }), tell());
    cell.deliver(from({ type: 'get' }), ask()); // no change: nothing traced
    cell.deliver(from({ type: 'inc' }), tell());
    const untraced = new ActorCell(ctx, tallyKind, 'u');
    untraced.deliver(from({ type: 'inc' }), tell());
    expect(asked).toEqual(['t', 'u']);
    expect(published).toHaveLength(2); // only the traced actor's changes
    taps.version = 2;
    cell.deliver(from({ type: 'arm', ms: 5 }), tell());
    ctx.clock.advance(5);
    cell.deliver(from({ type: 'boom' }), tell());
    expect(asked).toEqual(['t', 'u', 't']);
    expect(rec.begun).toEqual(['inc', 'get', 'inc', 'inc', 'arm', 'timer', 'boom']);
    expect(rec.ended).toEqual([false, false, false, false, false, false, true]);
  });

  it('carries out start effects with the first turn, and an effect emitted outside a turn at once (with a warning)', async () => {
    // After an ask turn, after a plain turn, and right after the start: no turn's effect list may still be open.
    for (const between of ['both', 'bump', undefined]) {
      const { ctx, tells, records, errors } = logged();
      const cell = new ActorCell(ctx, between ? effectKind : waitingKind, 'e');
      if (between) {
        cell.deliver(from({ type: 'wait' }), tell());
        expect(tells.map((t) => t.to)).toEqual([{ kind: 'log', id: 'start' }]);
        cell.deliver(from({ type: between }), tell());
      } else cell.touch();
      await settle();
      const processed = ctx.metrics.processed;
      resolveWait(1);
      await settle();
      expect(tells.map((t) => (t.to as { id: string }).id)).toEqual([...(between ? ['start'] : []), ...(between === 'both' ? ['both'] : []), 'late']);
      expect(ctx.metrics.processed).toBe(processed + 1);
      expect(records.filter((r) => r.level === 40).map((r) => [r.msg, r.effect])).toEqual([['effect emitted outside a turn; machines should use `ask` effects, not invoke', 'tell']]);
      expect(errors()).toEqual([]);
    }
  });

  it('runs an ask with its timeout beside other effects, chains asks, and supervises a failing answer handler', async () => {
    const opts: unknown[] = [];
    const { ctx, replies, tells, errors } = logged({ ask: (async (to: unknown, _m: unknown, o: unknown) => (opts.push([to, o]), 'ok')) as never });
    const cell = new ActorCell(ctx, effectKind, 'a');
    cell.deliver(from({ type: 'both' }), ask());
    await settle();
    expect(opts).toEqual([
      [{ kind: 'x', id: '1' }, { timeoutMs: 250 }],
      [{ kind: 'x', id: '2' }, { timeoutMs: undefined }],
    ]);
    expect(tells.map((t) => (t.to as { id: string }).id)).toEqual(['start', 'both']);
    expect(values(replies)).toEqual([{ ok: true, v: 2 }]);
    cell.deliver(from({ type: 'badThen' }), ask());
    await settle();
    expect(values(replies).at(-1)).toEqual({ ok: false, e: { code: ErrorCode.ActorFailed, message: 'fx/a failed handling badThen: then failed' } });
    expect(ctx.metrics.crashes).toBe(1);
    expect(errors()).toEqual([]);
  });

  it('logs a runtime error in a turn, synchronous or awaiting, and goes on', async () => {
    const taps = { active: false, recorder: { active: false, end: () => { throw new Error('recorder broke'); } } };
    const { ctx, errors, records } = logged({ taps: taps as unknown as CellContext['taps'] });
    const cell = new ActorCell(ctx, tallyKind, 'y');
    cell.deliver(from({ type: 'inc' }), tell());
    cell.deliver(from({ type: 'relay', to: 'e' }), tell());
    await settle();
    expect(records.filter((r) => r.level === 50).map((r) => [r.msg, (r.err as { message: string }).message])).toEqual([
      ['runtime error in turn', 'recorder broke'],
      ['runtime error in turn', 'recorder broke'],
    ]);
    expect(errors()).toHaveLength(2);
    expect(cell.busy).toBe(false);
  });

  it('a handed-over image brings its dedupe marks', () => {
    const { ctx } = stubContext();
    const src = new ActorCell(ctx, tallyKind, 'm');
    src.deliver(from({ type: 'inc' }, 5), tell());
    const t = stubContext();
    const dst = new ActorCell(t.ctx, tallyKind, 'm');
    dst.restore(src.image());
    dst.deliver(from({ type: 'inc' }, 5), tell()); // already applied before the hand-over
    dst.deliver(from({ type: 'inc' }, 6), ask());
    expect(values(t.replies)).toEqual([{ ok: true, v: 2 }]);
    expect(t.ctx.metrics.duplicates).toBe(1);
  });

  it('answers an ask effect that failed with a plain error as ACTOR_FAILED', async () => {
    const { ctx, replies } = stubContext({ ask: async () => Promise.reject(new Error('socket gone')) });
    const cell = new ActorCell(ctx, tallyKind, 'r');
    cell.deliver(from({ type: 'relay', to: 'e' }), ask());
    await settle();
    expect(values(replies)).toEqual([{ ok: true, v: { failed: { code: ErrorCode.ActorFailed, message: 'socket gone' } } }]);
  });

  it('pushes to one connection or several, answers an error reply, and survives a failing effect', () => {
    const { ctx, replies, pushes, records, errors } = logged({ tell: () => { throw new Error('no route'); } });
    const cell = new ActorCell(ctx, effectKind, 'p');
    cell.deliver(from({ type: 'push1' }), tell());
    cell.deliver(from({ type: 'pushN' }), tell());
    expect(pushes).toEqual([{ to: [{ gw: 'g', conn: 1 }], route: 'r', body: 1 }, { to: [{ gw: 'g', conn: 2 }], route: 'r', body: 2 }]);
    cell.deliver(from({ type: 'refuse' }), ask());
    expect(values(replies)).toEqual([{ ok: false, e: { code: 'NOPE', message: 'no' } }]);
    expect(records.filter((r) => r.msg === 'effect failed').map((r) => [r.effect, (r.err as { message: string }).message])).toEqual([['tell', 'no route']]);
    expect(ctx.metrics.processed).toBe(3);
    expect(errors()).toEqual([]);
  });

  it('a timer turn with a reply and a tell runs without an asker, counted, and no error', () => {
    const { ctx, tells, errors, records } = logged();
    const cell = new ActorCell(ctx, effectKind, 't');
    cell.deliver(from({ type: 'arm' }), tell());
    const processed = ctx.metrics.processed;
    ctx.clock.advance(10);
    expect(tells.map((t) => (t.to as { id: string }).id)).toEqual(['start', 'tick']);
    expect(ctx.metrics.processed).toBe(processed + 1);
    expect(records.filter((r) => r.level >= 40)).toEqual([]);
    expect(errors()).toEqual([]);
  });

  it('keeps a pending timer across a restart, and supervises crashes in timer turns (no asker to answer)', () => {
    const { ctx, tells, errors } = logged();
    const cell = new ActorCell(ctx, tallyKind, 'k');
    cell.deliver(from({ type: 'arm', ms: 50 }), tell());
    cell.deliver(from({ type: 'boom' }), tell());
    expect(cell.pendingTimers).toBe(1);
    ctx.clock.advance(50);
    expect(tells).toHaveLength(1);
    const boomKind = defineKind({ name: 'tb', machine: setup({}).createMachine({ initial: 'a', states: { a: { after: { 5: { actions: () => { throw new Error('tick'); } } } } } }) });
    const t = new ActorCell(ctx, boomKind, 'x');
    t.touch();
    ctx.clock.advance(5); // the restored timer is due again at once: it crashes past maxRestarts
    expect(ctx.metrics.crashes).toBe(1 + 3);
    expect(t.lifecycle.type).toBe('stopped');
    expect(errors()).toEqual(['actor keeps crashing: stopped']); // supervised each time, no runtime error
  });

  it('starts from the kind’s input, or from the one given to touch(); a failing input refuses to start', () => {
    const inputMachine = setup({ types: {} as { context: { who: string }; input: string; events: { type: 'get' }; emitted: Effect } }).createMachine({
      context: ({ input }) => ({ who: input }),
      on: { get: { actions: emit(({ context }) => ({ type: 'reply', body: context.who })) } },
    });
    const kind = defineKind({ name: 'in', machine: inputMachine, input: (id: string) => `kind:${id}` });
    const { ctx, replies } = stubContext();
    new ActorCell(ctx, kind, 'a').deliver(from({ type: 'get' }), ask());
    const b = new ActorCell(ctx, kind, 'b');
    b.touch('given');
    b.deliver(from({ type: 'get' }), ask());
    const bad = defineKind({ name: 'in', machine: inputMachine, input: () => { throw new Error('no input'); } });
    new ActorCell(ctx, bad, 'c').deliver(from({ type: 'get' }), ask());
    expect(values(replies)).toEqual([{ ok: true, v: 'kind:a' }, { ok: true, v: 'given' }, { ok: false, e: { code: ErrorCode.ActorFailed, message: 'in/c cannot start: no input' } }]);
  });

  it('a pinned actor runs while the node cannot confirm its shards; a sharded one parks only with work queued', () => {
    let serving = true;
    const { ctx, replies, parked } = stubContext({ serving: () => serving });
    const pinned = defineKind({ name: 'pin', machine: counterMachine, placement: 'pinned' });
    serving = false;
    new ActorCell(ctx, pinned, 'p').deliver(from({ type: 'inc' }), ask());
    expect(values(replies)).toEqual([{ ok: true, v: 1 }]);
    let calls = 0;
    const flip = stubContext({ serving: () => ++calls === 1 }); // confirmed for the first message, lapsed after it
    new ActorCell(flip.ctx, tallyKind, 's').deliver(from({ type: 'inc' }), ask());
    expect(values(flip.replies)).toEqual([{ ok: true, v: 1 }]);
    expect([flip.ctx.metrics.unconfirmed, flip.parked.length, parked.length]).toEqual([0, 0, 0]);
  });

  it('passivates only when nothing is queued behind the request; forget is passed on', async () => {
    let serving = false;
    const removed: unknown[] = [];
    const { ctx, parked } = stubContext({ serving: () => serving });
    const cell = new ActorCell(ctx, tallyKind, 'q');
    cell.deliver(from({ type: 'reset' }), tell());
    cell.deliver(from({ type: 'inc' }), tell());
    serving = true;
    parked[0]!.pump();
    await settle();
    expect(cell.lifecycle.type).toBe('active');
    expect(ctx.metrics.passivations).toBe(0);
    const store = { save: async () => 1, remove: async (...a: unknown[]) => void removed.push(a), load: async () => null };
    const durable = defineKind({ name: 'dur', machine: effectMachine, persistence: 'snapshot' });
    const s = stubContext({ snapshots: store as unknown as CellContext['snapshots'] });
    const d = new ActorCell(s.ctx, durable, 'r');
    d.deliver(from({ type: 'bump' }), tell()); // stored once, so that a forget would have something to remove
    await settle();
    d.deliver(from({ type: 'rest' }), tell());
    await settle();
    expect(d.lifecycle.type).toBe('closed');
    expect(removed).toEqual([]); // passivate without forget keeps the stored state
    const forgetting = new ActorCell(s.ctx, defineKind({ name: 'dur2', machine: counterMachine, persistence: 'snapshot' }), 'z');
    forgetting.deliver(from({ type: 'inc' }), tell());
    await settle();
    forgetting.deliver(from({ type: 'arm', ms: 1000 }), tell());
    await settle();
    forgetting.deliver(from({ type: 'reset' }), tell()); // passivate with forget: the stored state goes too
    forgetting.deliver(from({ type: 'inc' }), tell()); // arrives while it leaves: sent on to wherever it lives next
    await settle();
    expect(forgetting.lifecycle.type).toBe('closed');
    expect(s.redelivered).toEqual([{ m: { type: 'inc' } }]);
    expect(s.ctx.clock.pending).toBe(0); // its timer stopped with it
    expect(removed.map((a) => (a as unknown[]).slice(0, 2))).toEqual([['dur2', 'z']]);
  });

  it('writes a durable actor only when a turn changed it, not for a re-armed periodic timer', async () => {
    const saved: unknown[] = [];
    const store = { save: async (...a: unknown[]) => (saved.push(a[1]), saved.length), remove: async () => undefined, load: async () => null };
    const { ctx, replies } = stubContext({ snapshots: store as unknown as CellContext['snapshots'] });
    const durable = defineKind({ name: 'dc', machine: counterMachine, persistence: 'snapshot' });
    const cell = new ActorCell(ctx, durable, 'w');
    cell.deliver(from({ type: 'inc' }), ask());
    await settle();
    cell.deliver(from({ type: 'get' }), ask());
    await settle();
    expect(saved).toHaveLength(1);
    expect(values(replies)).toEqual([{ ok: true, v: 1 }, { ok: true, v: { count: 1, fired: 0, log: [] } }]);
    const p = stubContext({ snapshots: store as unknown as CellContext['snapshots'] });
    const pulse = new ActorCell(p.ctx, pulseKind, 'pl');
    pulse.deliver(from({ type: 'bump' }), ask());
    await settle();
    const writes = saved.length;
    p.ctx.clock.advance(1000);
    await settle();
    p.ctx.clock.advance(1000);
    await settle();
    expect(saved.length).toBe(writes);
  });

  it('a batched actor marks even a re-armed timer dirty (only snapshot kinds skip that write)', async () => {
    const saved: unknown[] = [];
    const store = { save: async (...a: unknown[]) => (saved.push(a[1]), saved.length), remove: async () => undefined, load: async () => null };
    const { ctx } = stubContext({ snapshots: store as unknown as CellContext['snapshots'] });
    const batched = defineKind({ name: 'pb', machine: pulseKind.machine, persistence: { batchMs: 100 } });
    const cell = new ActorCell(ctx, batched, 'b');
    cell.touch();
    await settle();
    expect(saved).toHaveLength(0);
    ctx.clock.advance(1000); // the periodic timer's turn
    ctx.clock.advance(100); // the batch
    await settle();
    expect(saved).toHaveLength(1);
  });

  it('answers $inspect with its counters, and may hibernate only when started, idle, between turns, with no start effects', async () => {
    const { ctx, replies } = stubContext({ ask: () => new Promise(() => undefined) });
    const cell = new ActorCell(ctx, effectKind, 'h');
    cell.touch();
    expect(cell.mayHibernate(ctx.clock.now() + 1e6, 0)).toBe(false); // its start effect waits for a turn
    cell.deliver(from({ type: 'bump' }), tell());
    expect(cell.mayHibernate(ctx.clock.now() + 1e6, 0)).toBe(true);
    cell.deliver(from({ type: '$inspect' }), ask());
    expect(values(replies)[0]).toMatchObject({ ok: true, v: { mailbox: 0, timers: 0, revision: 0, context: { n: 1 } } });
    cell.deliver(from({ type: 'both' }), tell()); // its ask never answers: the turn stays open
    expect(cell.mayHibernate(ctx.clock.now() + 1e6, 0)).toBe(false);
    const t = stubContext();
    const c = new ActorCell(t.ctx, tallyKind, 'x');
    c.deliver(from({ type: 'boom' }), tell()); // restarted, no start effects
    expect(c.mayHibernate(t.ctx.clock.now() + 1e6, 0)).toBe(true);
    c.deliver(from({ type: 'boom' }), tell());
    c.deliver(from({ type: 'boom' }), tell()); // stopped
    expect(c.mayHibernate(t.ctx.clock.now() + 1e6, 0)).toBe(false);
    let serving = false;
    const g = stubContext({ serving: () => serving });
    const parkedCell = new ActorCell(g.ctx, tallyKind, 'g');
    parkedCell.touch();
    parkedCell.deliver(from({ type: 'inc' }), tell()); // parked: queued, not in a turn
    expect(parkedCell.busy).toBe(true);
    expect(parkedCell.mayHibernate(g.ctx.clock.now() + 1e6, 0)).toBe(false);
    serving = true;
  });

  it('runs no task on a cell that closed during the turn that queued it (the passivation asked for while saving)', async () => {
    // The only way an item reaches a closed cell's mailbox (pump's closed branch): finish() queues the passivation
    // after the write, and the cell closed meanwhile. deactivate() would return at once there; the branch skips it.
    const leaving = setup({}).createMachine({ context: { n: 0 }, on: { leave: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit({ type: 'passivate' })] } } });
    let saved: (rev: number) => void = () => undefined;
    const store = { save: () => new Promise<number>((r) => (saved = r)), remove: async () => undefined, load: async () => null };
    const s = stubContext({ snapshots: store as unknown as CellContext['snapshots'] });
    const cell = new ActorCell(s.ctx, defineKind({ name: 'leaving', machine: leaving, persistence: 'snapshot' }), 'l');
    const deactivate = vi.spyOn(cell, 'deactivate');
    cell.deliver(from({ type: 'leave' }), tell());
    await settle(); // loaded, turn run, its write pending
    cell.close(); // e.g. its shard dropped meanwhile
    saved(1);
    await settle();
    expect(cell.lifecycle.type).toBe('closed');
    expect(deactivate).not.toHaveBeenCalled();
    expect(s.redelivered).toEqual([]); // a task is no message to send on
  });
});
