/**
 * A durable counter: the smallest useful actor, for demos (`gatehouse tell counter/x '{"type":"inc"}'`) and benchmarks.
 */
import { assign, emit, setup } from 'xstate';
import type { Effect } from '../runtime/effects.js';

export type CounterEvent = { type: 'inc'; by?: number } | { type: 'get' } | { type: 'reset' };

export const counterMachine = setup({
  types: {} as { context: { count: number }; events: CounterEvent; emitted: Effect },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  on: {
    inc: {
      actions: [
        assign({ count: ({ context, event }) => context.count + (event.by ?? 1) }),
        emit(({ context }) => ({ type: 'reply', body: context.count })),
      ],
    },
    get: { actions: emit(({ context }) => ({ type: 'reply', body: context.count })) },
    reset: { actions: [assign({ count: 0 }), emit({ type: 'reply', body: 0 })] },
  },
});
