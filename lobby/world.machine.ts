/**
 * The root of the count roll-up (`lobby-world/world`): what each server last reported, for the server list. It holds
 * nothing that cannot be rebuilt, so it is memory-only: after a crash, occupied servers re-report within one refresh
 * period. It may passivate only when every server is empty (otherwise counts would vanish until the next refresh).
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import { page } from './layer.js';
import { ok } from './model.js';
import { serverId, statusOf, type ServerType } from './tree.js';

export interface WorldInput {
  servers: readonly ServerType[];
  serverCapacity: number;
}

export interface WorldContext extends WorldInput {
  counts: Record<string, number>;
}

export type WorldEvent = { type: 'report'; child: string; n: number } | { type: 'list'; offset: number; limit: number; serverType: string };

export function serverList(c: WorldContext) {
  return c.servers.map((type, i) => {
    const id = serverId(i + 1);
    const n = c.counts[id] ?? 0;
    return { id, type, n, capacity: c.serverCapacity, status: statusOf(n, c.serverCapacity) };
  });
}

export const worldMachine = setup({
  types: {} as { context: WorldContext; events: WorldEvent; input: WorldInput; emitted: Effect },
}).createMachine({
  id: 'lobby-world',
  context: ({ input }) => ({ ...input, counts: {} }),
  on: {
    report: {
      guard: ({ context, event }) => (context.counts[event.child] ?? 0) !== event.n,
      actions: assign({ counts: ({ context, event }) => ({ ...context.counts, [event.child]: event.n }) }),
    },
    list: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const all = serverList(context).filter((s) => !event.serverType || s.type === event.serverType);
        enqueue.emit(ok(page(all, event.offset, event.limit)));
      }),
    },
  },
});
