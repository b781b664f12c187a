/**
 * How a turn runner hears its actor's emitted events (listenToEmits, emit-hook.ts): through XState's actor-scope
 * emit hook when this XState has it (no listener array copied per emit), else through an ordinary `on('*')`.
 */
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActor, type EventObject } from 'xstate';
import { counterMachine } from '../../actors/demo/counter.machine.js';
import { listenToEmits } from '../../actors/runtime/emit-hook.js';

describe('listenToEmits', () => {
  it('takes the actor scope’s emit hook of this XState version: every emitted event reaches the handler, no listener is registered', () => {
    const a = createActor(counterMachine);
    const got: EventObject[] = [];
    expect(listenToEmits(a, (e) => got.push(e))).toBe(true);
    a.start();
    a.send({ type: 'inc', by: 2 });
    a.send({ type: 'get' });
    expect(got).toEqual([
      { type: 'reply', body: 2 },
      { type: 'reply', body: 2 },
    ]);
    expect((a as unknown as { eventListeners: Map<string, unknown> }).eventListeners.size).toBe(0);
  });

  it('falls back to an on(*) listener when the actor has no such hook', () => {
    const registered: Array<[string, unknown]> = [];
    const handler = () => undefined;
    const fake = { on: (type: string, h: unknown) => void registered.push([type, h]) } as unknown as AnyActor;
    expect(listenToEmits(fake, handler)).toBe(false);
    expect(registered).toEqual([['*', handler]]);
  });
});
