/**
 * The turn runner (actors/runtime/turn-runner.ts), driven through its cell on a stub context with an injected clock:
 * dedupe and the sequence-ahead bound, runtime messages, bad messages, supervision (restart, escalation, the crash
 * window), `ask` effects inside a turn, the other effects, the default reply, turns held while the node cannot
 * confirm its ownership, and timers as turns.
 */
import { describe, expect, it } from 'vitest';
import { ActorCell } from '../../actors/runtime/cell.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import { counterMachine, tallyKind } from '../support/test-kinds.js';
import { NOW_MS, ask, count, from, settle, stubContext, tell, values } from './turn-runner-harness.js';

describe('turn runner', () => {
  it('drops a duplicate (sequence at or below the sender’s mark) and applies the next, per sender', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'd');
    cell.deliver(from({ type: 'inc' }, 5), ask());
    cell.deliver(from({ type: 'inc' }, 5), ask()); // equal: duplicate
    cell.deliver(from({ type: 'inc' }, 4), ask()); // below: duplicate
    cell.deliver(from({ type: 'inc' }, 1, 'other'), ask()); // another sender has its own mark
    cell.deliver(from({ type: 'inc' }, 6), ask());
    cell.deliver(from({ type: 'inc' }), ask()); // no identity: never a duplicate
    expect(values(replies)).toEqual([
      { ok: true, v: 1 },
      { ok: true, v: 2 },
      { ok: true, v: 3 },
      { ok: true, v: 4 },
    ]);
    expect(ctx.metrics.duplicates).toBe(2);
    expect(cell.image().record!.d.sort()).toEqual([
      ['other', 1],
      ['s', 6],
    ]);
  });

  it('refuses a sequence too far ahead of the clock without recording it, and goes on with the sender', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'far');
    const bound = (NOW_MS + 60_000) * 1000; // DEFAULT_SEQ_AHEAD_MS is 60 s at SEQ_PER_MS 1000
    cell.deliver(from({ type: 'inc' }, bound + 1), ask());
    cell.deliver(from({ type: 'inc' }, bound + 2), tell());
    cell.deliver(from({ type: 'inc' }, bound), ask()); // at the bound: accepted
    expect(values(replies)).toEqual([
      { ok: false, e: { code: ErrorCode.BadMessage, message: 'envelope sequence too far ahead' } },
      { ok: true, v: 1 },
    ]);
    expect(ctx.metrics.seqRefused).toBe(2);
    expect(cell.image().record!.d).toEqual([['s', bound]]);
    // Past the mark by less than the bound, even beyond the clock's bound: the mark is the reference.
    cell.deliver(from({ type: 'inc' }, bound + 59_000_000), ask());
    expect(values(replies).at(-1)).toEqual({ ok: true, v: 2 });
  });

  it('answers $inspect with the actor’s view and refuses other runtime messages', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'i');
    cell.deliver(from({ type: 'inc' }), tell());
    cell.deliver(from({ type: '$inspect' }), ask());
    cell.deliver(from({ type: '$nope' }), ask());
    cell.deliver(from({ type: '$nope' }), tell());
    expect(replies).toHaveLength(2);
    expect(replies[0]!.reply).toMatchObject({ ok: true, v: { kind: 'tally', id: 'i', node: 'n1', status: 'active', context: { count: 1 } } });
    expect(replies[1]!.reply).toEqual({ ok: false, e: { code: ErrorCode.BadMessage, message: 'unknown runtime message $nope' } });
    expect(count(cell)).toBe(1);
  });

  it('answers a message its kind refuses with that error, drops it when told, and counts both', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'b');
    cell.deliver(from({ type: 'inc', by: 'x' }), ask());
    cell.deliver(from({ nope: 1 }), tell());
    expect(values(replies)).toEqual([{ ok: false, e: { code: ErrorCode.BadMessage, message: 'inc.by must be a number' } }]);
    expect(ctx.metrics.badMessages).toBe(2);
    expect(cell.lifecycle.type).toBe('active');
  });

  it('restarts a crashed actor from its state before the message, and stops it past maxRestarts in the window', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'c');
    cell.deliver(from({ type: 'inc' }), tell());
    cell.deliver(from({ type: 'boom' }), ask());
    expect(values(replies)).toEqual([
      { ok: false, e: { code: ErrorCode.ActorFailed, message: 'tally/c failed handling boom: boom requested' } },
    ]);
    expect(cell.lifecycle.type).toBe('active');
    expect(count(cell)).toBe(1); // restarted from before the failing message
    cell.deliver(from({ type: 'boom' }), tell());
    ctx.clock.advance(10_000); // both crashes leave the window
    cell.deliver(from({ type: 'boom' }), tell());
    cell.deliver(from({ type: 'boom' }), tell());
    expect(cell.lifecycle.type).toBe('active'); // two in the window: at the limit
    cell.deliver(from({ type: 'boom' }), tell());
    expect(cell.lifecycle.type).toBe('stopped');
    expect(ctx.metrics.crashes).toBe(5);
    expect(ctx.metrics.escalations).toBe(1);
    cell.deliver(from({ type: 'inc' }), ask());
    cell.deliver(from({ type: 'inc' }), tell());
    expect(values(replies).at(-1)).toEqual({ ok: false, e: { code: ErrorCode.ActorStopped, message: 'tally/c is stopped after repeated crashes' } });
    expect(replies).toHaveLength(2);
  });

  it('runs an ask effect inside the turn and feeds its answer (or its failure) back to the machine', async () => {
    const asked: unknown[] = [];
    let fail = false;
    const { ctx, replies } = stubContext({
      ask: async (to) => {
        asked.push(to);
        if (fail) throw new GatehouseError(ErrorCode.Timeout, 'no answer');
        return 'pong';
      },
    });
    const cell = new ActorCell(ctx, tallyKind, 'r');
    cell.deliver(from({ type: 'relay', to: 'e1' }), ask());
    cell.deliver(from({ type: 'get' }), ask()); // waits for the turn that awaits
    expect(cell.busy).toBe(true);
    expect(replies).toEqual([]);
    await settle();
    expect(asked).toEqual([{ kind: 'ext', id: 'e1' }]);
    expect(values(replies)).toEqual([
      { ok: true, v: 'pong' },
      { ok: true, v: { count: 0, fired: 0, log: [['relay-done', 0]] } },
    ]);
    fail = true;
    cell.deliver(from({ type: 'relay', to: 'e2' }), ask());
    await settle();
    expect(values(replies).at(-1)).toEqual({ ok: true, v: { failed: { code: ErrorCode.Timeout, message: 'no answer' } } });
    expect(cell.busy).toBe(false);
  });

  it('answers null when the machine emits no reply, carries out tells, and passivates on request', async () => {
    const { ctx, replies, tells } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'p');
    cell.deliver(from({ type: 'arm', ms: 50 }), ask());
    expect(values(replies)).toEqual([{ ok: true, v: null }]);
    expect(cell.pendingTimers).toBe(1);
    ctx.clock.advance(50);
    expect(tells).toEqual([{ to: { kind: 'counter', id: 'timer-sink' }, msg: { type: 'inc' } }]);
    expect(cell.pendingTimers).toBe(0);
    expect((cell.image().record!.s as { context: { fired: number } }).context.fired).toBe(1);
    cell.deliver(from({ type: 'reset' }), tell());
    await settle();
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.passivations).toBe(1);
  });

  it('answers with the kind’s default reply when the machine emits none', () => {
    const kind = defineKind({ name: 'dr', machine: counterMachine, defaultReply: (s) => ({ n: s.context.count }) });
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, kind, 'x');
    cell.deliver(from({ type: 'arm', ms: 5 }), ask());
    expect(values(replies)).toEqual([{ ok: true, v: { n: 0 } }]);
  });

  it('holds every turn while the node cannot confirm its ownership, and runs them in order when pumped again', () => {
    let serving = false;
    const { ctx, replies, parked } = stubContext({ serving: () => serving });
    const cell = new ActorCell(ctx, tallyKind, 's');
    cell.deliver(from({ type: 'inc' }, 1), ask());
    cell.deliver(from({ type: 'inc' }, 2), ask());
    expect(replies).toEqual([]);
    expect(ctx.metrics.unconfirmed).toBe(2); // each delivery tried, and parked the runner
    expect(parked).toHaveLength(2);
    serving = true;
    parked[0]!.pump();
    expect(values(replies)).toEqual([
      { ok: true, v: 1 },
      { ok: true, v: 2 },
    ]);
  });

  it('may hibernate only when live, idle, without timers, and gives back the same state when woken', () => {
    const { ctx, replies } = stubContext();
    const cell = new ActorCell(ctx, tallyKind, 'h');
    cell.deliver(from({ type: 'inc' }, 1), tell());
    cell.deliver(from({ type: 'arm', ms: 100 }, 2), tell());
    const t = ctx.clock.now();
    expect(cell.mayHibernate(t, 0)).toBe(false); // a timer is pending
    ctx.clock.advance(100);
    expect(cell.mayHibernate(ctx.clock.now(), 0)).toBe(true);
    cell.hibernate();
    expect(cell.isDormant).toBe(true);
    expect(ctx.metrics.hibernations).toBe(1);
    cell.deliver(from({ type: 'inc' }, 2), tell()); // duplicate, dropped while dormant
    expect(ctx.metrics.duplicates).toBe(1);
    cell.deliver(from({ type: 'get' }, 3), ask());
    cell.wake();
    expect(values(replies)).toEqual([{ ok: true, v: { count: 1, fired: 1, log: [] } }]);
    expect(ctx.metrics.wakes).toBe(1);
  });
});
