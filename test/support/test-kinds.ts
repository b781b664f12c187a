/**
 * Small actor kinds used by runtime, cluster and benchmark tests. Machines are pure: effects only via emit().
 */
import { assign, emit, setup } from 'xstate';
import { defineKind, badMessage } from '../../actors/runtime/kind.js';
import type { Effect } from '../../actors/runtime/effects.js';

type CounterEvent =
  | { type: 'inc'; by?: number; from?: string; n?: number }
  | { type: 'get' }
  | { type: 'boom' }
  | { type: 'arm'; ms: number }
  | { type: 'fire' }
  | { type: 'relay'; to: string }
  | { type: 'relayed'; ok: boolean; body?: unknown; error?: unknown }
  | { type: 'reset' };

export const counterMachine = setup({
  types: {} as {
    context: { count: number; fired: number; log: Array<[string, number]> };
    events: CounterEvent;
    emitted: Effect;
  },
  delays: {
    armed: ({ event }) => ((event as { ms?: number }).ms ?? 1000),
  },
}).createMachine({
  id: 'counter',
  context: { count: 0, fired: 0, log: [] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        arm: 'armed',
      },
    },
    armed: {
      after: {
        armed: { target: 'idle', actions: [assign({ fired: ({ context }) => context.fired + 1 }), emit({ type: 'tell', to: { kind: 'counter', id: 'timer-sink' }, msg: { type: 'inc' } })] },
      },
    },
  },
  on: {
    inc: {
      actions: [
        assign({
          count: ({ context, event }) => context.count + (event.by ?? 1),
          log: ({ context, event }) => (event.from !== undefined ? [...context.log, [event.from, event.n ?? 0] as [string, number]] : context.log),
        }),
        emit(({ context }) => ({ type: 'reply', body: context.count })),
      ],
    },
    get: { actions: emit(({ context }) => ({ type: 'reply', body: { count: context.count, fired: context.fired, log: context.log } })) },
    boom: {
      actions: () => {
        throw new Error('boom requested');
      },
    },
    relay: { actions: emit(({ event }) => ({ type: 'ask', to: { kind: 'ext', id: event.to }, msg: { type: 'ping' }, then: 'relayed' })) },
    relayed: {
      actions: [
        assign({ log: ({ context }) => [...context.log, ['relay-done', context.log.length] as [string, number]] }),
        emit(({ event }) => ({ type: 'reply', body: event.ok ? event.body : { failed: event.error } })),
      ],
    },
    reset: { actions: emit({ type: 'passivate', forget: true }) },
  },
});

function counterToEvent(msg: unknown): CounterEvent {
  const m = msg as { type?: unknown; by?: unknown };
  if (!m || typeof m.type !== 'string') throw badMessage('message must be an object with a string "type"');
  if (m.type === 'inc' && m.by !== undefined && typeof m.by !== 'number') throw badMessage('inc.by must be a number');
  return m as CounterEvent;
}

/** Durable: every change is written before the reply. */
export const counterKind = defineKind({ name: 'counter', machine: counterMachine, persistence: 'snapshot', toEvent: counterToEvent });

/** Same machine, memory only. */
export const tallyKind = defineKind({
  name: 'tally',
  machine: counterMachine,
  persistence: 'none',
  toEvent: counterToEvent,
  canPassivate: (s) => s.context.count === 0,
});

/** Records the order of work: start/end markers around an awaited ask, to show turns never interleave. */
export const turnMachine = setup({
  types: {} as {
    context: { log: string[] };
    events: { type: 'work'; i: number } | { type: 'done'; ok: boolean; body?: unknown } | { type: 'dump' };
    emitted: Effect;
  },
}).createMachine({
  context: { log: [] },
  on: {
    work: {
      actions: [
        assign({ log: ({ context, event }) => [...context.log, `start:${event.i}`] }),
        emit(({ event }) => ({ type: 'ask', to: { kind: 'tally', id: `echo-${event.i}` }, msg: { type: 'inc' }, then: 'done' })),
      ],
    },
    done: {
      actions: [
        assign({ log: ({ context }) => [...context.log, `end:${context.log[context.log.length - 1]!.split(':')[1]}`] }),
        emit({ type: 'reply', body: 'ok' }),
      ],
    },
    dump: { actions: emit(({ context }) => ({ type: 'reply', body: context.log })) },
  },
});

export const turnKind = defineKind({ name: 'turns', machine: turnMachine, persistence: 'none' });

/** A durable actor with a periodic timer re-entering its own state (like a session's connection probe). */
export const pulseMachine = setup({
  types: {} as { context: { n: number; ticks: number }; events: { type: 'bump' } | { type: 'get' }; emitted: Effect },
}).createMachine({
  context: { n: 0, ticks: 0 },
  initial: 'on',
  // Like a session's probe: leave the state and come back within one turn (XState then makes a new snapshot object).
  states: { on: { after: { 1000: 'checking' } }, checking: { always: 'on' } },
  on: {
    bump: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit(({ context }) => ({ type: 'reply', body: context.n }))] },
    get: { actions: emit(({ context }) => ({ type: 'reply', body: context.n })) },
  },
});
export const pulseKind = defineKind({ name: 'pulse', machine: pulseMachine, persistence: 'snapshot' });
