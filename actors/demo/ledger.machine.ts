/**
 * A sequence ledger: records who sent what, in the order applied. Used to check a deployment end to end (every
 * message applied exactly once and in per-sender order, across migrations and fail-overs) and by the cluster tests.
 */
import { assign, emit, setup } from 'xstate';
import type { Effect } from '../runtime/effects.js';

export type LedgerEvent = { type: 'inc'; from?: string; n?: number } | { type: 'get' };

export const ledgerMachine = setup({
  types: {} as { context: { count: number; log: Array<[string, number]> }; events: LedgerEvent; emitted: Effect },
}).createMachine({
  id: 'ledger',
  context: { count: 0, log: [] },
  on: {
    inc: {
      actions: [
        assign(({ context, event }) => ({
          count: context.count + 1,
          // A new array each time keeps snapshots immutable (a crash restarts from the previous one intact).
          log: event.from !== undefined ? [...context.log, [event.from, event.n ?? 0] as [string, number]] : context.log,
        })),
        emit(({ context }) => ({ type: 'reply', body: context.count })),
      ],
    },
    get: { actions: emit(({ context }) => ({ type: 'reply', body: { count: context.count, log: context.log } })) },
  },
});
