/**
 * A turn that ends by passivating with `forget` (a logout, an emptied city) deletes the stored state in place of
 * writing it: one store operation, not an update followed by a delete. When the delete fails the turn is answered as
 * a failed write is (its effects withheld); when messages wait behind it the actor stays and its state is written
 * again; a batched actor that forgets never flushes what it is about to delete, but writes it when the delete fails.
 * Stub context, scripted store, ManualClock; no sleeps.
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ActorCell } from '../../actors/runtime/cell.js';
import type { Effect } from '../../actors/runtime/effects.js';
import { defineKind } from '../../actors/runtime/kind.js';
import type { Envelope } from '../../actors/runtime/envelope.js';
import { ErrorCode } from '../../common/errors.js';
import { ask, inc, settle, tell, withStore } from './cell-harness.js';

const machine = setup({
  types: {} as { context: { count: number }; events: { type: 'inc'; by?: number } | { type: 'bye' }; emitted: Effect },
}).createMachine({
  context: { count: 0 },
  on: {
    inc: { actions: [assign({ count: ({ context, event }) => context.count + (event.by ?? 1) }), emit(({ context }) => ({ type: 'reply', body: context.count }))] },
    bye: {
      actions: [
        assign({ count: -1 }),
        enqueueActions(({ enqueue }) => {
          enqueue.emit({ type: 'reply', body: 'bye' });
          enqueue.emit({ type: 'passivate', forget: true });
        }),
      ],
    },
  },
});
const snapKind = defineKind({ name: 'snap', machine, persistence: 'snapshot' });
const batchedKind = defineKind({ name: 'batched', machine, persistence: { batchMs: 100 } });
const bye = (q: number): Envelope => ({ m: { type: 'bye' }, s: 's', q });

describe('a turn that forgets deletes instead of writing', () => {
  it('write-through: one delete at the revision last written, no update; the cell leaves', async () => {
    const { s, ctx, replies } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'p');
    cell.deliver(inc(1), tell());
    await settle();
    expect(s.saves).toEqual([{ id: 'p', count: 1, expected: 0 }]);
    cell.deliver(bye(2), ask(bye(2)));
    await settle();
    expect(s.saves).toHaveLength(1);
    expect(s.removes).toEqual([{ id: 'p', expected: 1 }]);
    expect(replies.at(-1)!.body).toEqual({ ok: true, v: 'bye' });
    expect(cell.lifecycle.type).toBe('closed');
    expect(ctx.metrics.passivations).toBe(1);
  });

  it('never written: forgets without a store operation', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'n');
    cell.deliver(bye(1), tell());
    await settle();
    expect(s.saves).toEqual([]);
    expect(s.removes).toEqual([]);
    expect(cell.lifecycle.type).toBe('closed');
  });

  it('a delete whose outcome is unknown is answered as such a write is: MAYBE_APPLIED, and the actor reloads', async () => {
    const { s, ctx, replies } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'f');
    cell.deliver(inc(1), tell());
    await settle();
    s.failRemoves();
    cell.deliver(bye(2), ask(bye(2)));
    await settle();
    const answer = replies.at(-1)!.body as { ok: boolean; e?: { code: string } };
    expect(answer).toMatchObject({ ok: false, e: { code: ErrorCode.MaybeApplied } });
    expect(cell.lifecycle.type).toBe('closed');
    expect(s.saves).toHaveLength(1);
  });

  it('a message arriving while the delete is under way: the actor stays and its state is written again', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'q');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(bye(2), tell());
    cell.deliver(inc(3), tell()); // arrives while the forgetting turn's delete is awaited
    await settle();
    expect(s.removes).toEqual([{ id: 'q', expected: 1 }]);
    expect(s.saves).toEqual([{ id: 'q', count: 1, expected: 0 }, { id: 'q', count: 0, expected: 0 }]);
    expect(cell.lifecycle.type).toBe('active');
  });

  it('the message arriving meanwhile changes nothing: the state kept is written by the cell itself', async () => {
    const { s, ctx } = withStore();
    const cell = new ActorCell(ctx, snapKind, 'r');
    cell.deliver(inc(1), tell());
    await settle();
    cell.deliver(bye(2), tell());
    cell.deliver({ m: { type: 'unheard' }, s: 's', q: 3 }, tell()); // no transition: its turn writes nothing
    await settle();
    expect(s.removes).toEqual([{ id: 'r', expected: 1 }]);
    expect(s.saves).toEqual([{ id: 'r', count: 1, expected: 0 }, { id: 'r', count: -1, expected: 0 }]);
    expect(cell.lifecycle.type).toBe('active');
  });

  it('batched: the unsaved change is not flushed before the delete; a failed delete writes it after all', async () => {
    const { s, ctx, logged } = withStore();
    const a = new ActorCell(ctx, batchedKind, 'a');
    a.deliver(inc(1), tell());
    await settle();
    ctx.clock.advance(100);
    await settle();
    expect(s.saves).toEqual([{ id: 'a', count: 1, expected: 0 }]);
    a.deliver(bye(2), tell());
    await settle();
    expect(s.saves).toHaveLength(1);
    expect(s.removes).toEqual([{ id: 'a', expected: 1 }]);
    expect(a.lifecycle.type).toBe('closed');

    const b = new ActorCell(ctx, batchedKind, 'b');
    b.deliver(inc(5), tell());
    await settle();
    ctx.clock.advance(100);
    await settle();
    s.failRemoves();
    b.deliver(bye(6), tell());
    await settle();
    expect((logged('could not delete stored state').err as Error).message).toBe('delete refused');
    expect(s.saves.map((x) => [x.id, x.count])).toEqual([['a', 1], ['b', 1], ['b', -1]]);
    expect(b.lifecycle.type).toBe('closed');
  });
});
