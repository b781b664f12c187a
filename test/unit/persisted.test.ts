/**
 * persistedSnapshot() must give exactly what XState's getPersistedSnapshot() gives (it is stored, and handed over in
 * migrations), and take its fast path only when that is safe. An XState upgrade that changes the format fails here.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createActor, createMachine, setup, spawnChild, type AnyActor } from 'xstate';
import { persistedSnapshot } from '../../actors/runtime/persisted.js';
import { ledgerMachine } from '../../actors/demo/ledger.machine.js';
import { roomMachine } from '../../chat/room.machine.js';

function both(actor: AnyActor): { fast: unknown; xstate: unknown; fellBack: boolean } {
  const spy = vi.spyOn(actor, 'getPersistedSnapshot');
  const fast = persistedSnapshot(actor);
  const fellBack = spy.mock.calls.length > 0;
  spy.mockRestore();
  return { fast, xstate: actor.getPersistedSnapshot(), fellBack };
}

const fromInput = createMachine({
  types: {} as { context: { data: unknown }; input: { data: unknown } },
  context: ({ input }) => ({ data: input.data }),
  initial: 'a',
  states: { a: { on: { go: 'b' } }, b: { type: 'final' } },
  // A finished actor's snapshot carries its output: a field the fast path must keep.
  output: ({ context }) => context.data,
});

describe('persistedSnapshot', () => {
  it('equals XState on a ledger after messages, without falling back', () => {
    const a = createActor(ledgerMachine).start();
    for (let n = 0; n < 20; n++) a.send({ type: 'inc', from: `s${n % 3}`, n });
    const r = both(a);
    expect(r.fellBack).toBe(false);
    expect(r.fast).toEqual(r.xstate);
  });

  it('equals XState on a chat room with members', () => {
    const a = createActor(roomMachine, { input: { room: 'lobby' } }).start();
    const r = both(a);
    expect(r.fellBack).toBe(false);
    expect(r.fast).toEqual(r.xstate);
  });

  it('equals XState for any JSON-like context, in every state', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (data, go) => {
        const a = createActor(fromInput, { input: { data } }).start();
        if (go) a.send({ type: 'go' });
        const r = both(a);
        expect(r.fellBack).toBe(false);
        expect(r.fast).toEqual(r.xstate);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps typed arrays and dates as they are', () => {
    const a = createActor(fromInput, { input: { data: { bytes: new Uint8Array([1, 2, 3]), at: new Date(0), list: [[1, 'x']] } } }).start();
    const r = both(a);
    expect(r.fellBack).toBe(false);
    expect(r.fast).toEqual(r.xstate);
  });

  it('falls back to XState for an actor reference in the context', () => {
    const other = createActor(fromInput, { input: { data: 1 } }).start();
    const a = createActor(fromInput, { input: { data: { nested: [{ who: other }] } } }).start();
    const r = both(a);
    expect(r.fellBack).toBe(true);
    expect(r.fast).toEqual(r.xstate);
    expect(JSON.stringify(r.fast)).toContain('xstate$$type');
  });

  it('falls back to XState for child actors and history states', () => {
    const parent = setup({ actors: { child: fromInput } }).createMachine({
      entry: spawnChild('child', { id: 'kid', input: { data: 2 } }),
    });
    const withChild = both(createActor(parent).start());
    expect(withChild.fellBack).toBe(true);
    expect(withChild.fast).toEqual(withChild.xstate);

    const hist = createMachine({
      initial: 'on',
      states: {
        on: { initial: 'x', states: { x: { on: { next: 'y' } }, y: {}, h: { type: 'history' } }, on: { off: 'off' } },
        off: { on: { back: 'on.h' } },
      },
    });
    const h = createActor(hist).start();
    h.send({ type: 'next' });
    h.send({ type: 'off' });
    const withHistory = both(h);
    expect(withHistory.fellBack).toBe(true);
    expect(withHistory.fast).toEqual(withHistory.xstate);
  });

  it('falls back to XState past its depth bound', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const r = both(createActor(fromInput, { input: { data: deep } }).start());
    expect(r.fellBack).toBe(true);
    expect(r.fast).toEqual(r.xstate);
  });

  it('restores to the same state as XState’s own snapshot', () => {
    const a = createActor(ledgerMachine).start();
    a.send({ type: 'inc', from: 's', n: 0 });
    const b = createActor(ledgerMachine, { snapshot: persistedSnapshot(a) as never }).start();
    b.send({ type: 'inc', from: 's', n: 1 });
    expect(b.getSnapshot().context).toEqual({ count: 2, log: [['s', 0], ['s', 1]] });
  });
});
