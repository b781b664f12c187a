/**
 * persistedSnapshot()'s choice between its fast path and XState's own getPersistedSnapshot()
 * (actors/runtime/persisted.ts), written against the mutants Stryker left alive (docs/TESTING.md): the exact
 * actor-reference test, the exact depth bound, a machine without context, and the snapshot-shape guard (checked once
 * per process, so each case here loads a fresh copy of the module).
 */
import { describe, expect, it, vi } from 'vitest';
import { createActor, createMachine, type AnyActor } from 'xstate';

async function fresh(): Promise<(a: AnyActor) => unknown> {
  vi.resetModules();
  return (await import('../../actors/runtime/persisted.js')).persistedSnapshot;
}

const fromInput = createMachine({
  types: {} as { context: { data: unknown }; input: { data: unknown } },
  context: ({ input }) => ({ data: input.data }),
  initial: 'a',
  states: { a: {} },
});

async function judge(actor: AnyActor, persisted?: (a: AnyActor) => unknown) {
  const p = persisted ?? (await fresh());
  const spy = vi.spyOn(actor, 'getPersistedSnapshot');
  const fast = p(actor);
  const fellBack = spy.mock.calls.length > 0;
  spy.mockRestore();
  return { fast, xstate: actor.getPersistedSnapshot(), fellBack };
}

const withData = (data: unknown) => createActor(fromInput, { input: { data } }).start();

describe('persistedSnapshot fast path or fallback', () => {
  it('falls back for an object with all three of sessionId, send and ref (what XState treats as an actor ref)', async () => {
    const r = await judge(withData({ list: [{ sessionId: 'x.1', send: 1, ref: 2 }] }));
    expect(r.fellBack).toBe(true);
  });

  it('stays on the fast path when only some of the three keys are there', async () => {
    const p = await fresh();
    for (const o of [{ sessionId: 'x' }, { send: 1 }, { ref: 1 }, { sessionId: 'x', send: 1 }, { send: 1, ref: 1 }, { sessionId: 'x', ref: 1 }]) {
      const r = await judge(withData({ o }), p);
      expect(r.fellBack).toBe(false);
      expect(r.fast).toEqual(r.xstate);
    }
    // An array is never taken for an actor reference, whatever its properties.
    const arr = Object.assign([1], { sessionId: 'x', send: 1, ref: 1 });
    expect((await judge(withData({ arr }), p)).fellBack).toBe(false);
  });

  it('walks 64 levels below the context itself, and falls back at 65', async () => {
    const nest = (n: number) => {
      let v: unknown = 1;
      for (let i = 0; i < n; i++) v = [v];
      return v;
    };
    const p = await fresh();
    // context (depth 0) → data (1) → n arrays: the innermost array sits at depth n.
    expect((await judge(withData(nest(64)), p)).fellBack).toBe(false);
    expect((await judge(withData(nest(65)), p)).fellBack).toBe(true);
  });

  it('takes the fast path for a machine without context', async () => {
    const bare = createMachine({ initial: 'a', states: { a: {} } });
    const r = await judge(createActor(bare).start());
    expect(r.fellBack).toBe(false);
    expect(r.fast).toEqual(r.xstate);
  });

  it('always falls back once it has seen a snapshot of another shape (another XState version)', async () => {
    const p = await fresh();
    const real = withData({ a: 1 });
    const odd = { ...real.getSnapshot(), extra: true } as object;
    const fake = { getSnapshot: () => odd, getPersistedSnapshot: vi.fn(() => 'xstate') } as unknown as AnyActor;
    expect(p(fake)).toBe('xstate');
    const r = await judge(real, p);
    expect(r.fellBack).toBe(true);
    // One key missing, same count: also another shape.
    const q = await fresh();
    const keys = Object.keys(real.getSnapshot());
    const swapped = Object.fromEntries(keys.map((k) => [k === 'tags' ? 'tagz' : k, (real.getSnapshot() as unknown as Record<string, unknown>)[k]]));
    const fake2 = { getSnapshot: () => swapped, getPersistedSnapshot: vi.fn(() => 'xstate') } as unknown as AnyActor;
    expect(q(fake2)).toBe('xstate');
  });
});
