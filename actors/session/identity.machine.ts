/**
 * Who holds an identity (user name, Capcom ID…) right now, cluster-wide: one sharded, durable actor per identity, so
 * two gateways can never both log the same identity in (every claim is a turn of this one actor).
 *
 *   free --claim--> held --release (by the holder)--> free (forgotten)
 *                    |--claim, mode kick----> held by the newcomer; the old session is told `kicked`
 *                    \--claim, mode refuse--> asks the holder session whether it still holds the identity: yes →
 *                                             ALREADY_LOGGED_IN; no (it ended and its release was lost) → taken over
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import type { Effect } from '../runtime/effects.js';

export const ALREADY_LOGGED_IN = 'ALREADY_LOGGED_IN';

export interface IdentityContext {
  id: string;
  session?: string;
  pending?: string;
}

type AskResult = { ok: true; body: unknown } | { ok: false; error: { code: string; message: string } };

export type IdentityEvent =
  | { type: 'claim'; session: string; mode: 'refuse' | 'kick' }
  | { type: 'release'; session: string }
  | { type: 'holder' }
  | ({ type: 'checked' } & AskResult);

const sessionRef = (id: string) => ({ kind: 'session', id });

export const identityMachine = setup({
  types: {} as { context: IdentityContext; events: IdentityEvent; input: { id: string }; emitted: Effect },
  guards: {
    mine: ({ context, event }) => context.session === (event as { session: string }).session,
    kickMode: ({ event }) => (event as { mode?: string }).mode === 'kick',
    stillHeld: ({ event }) => (event as AskResult).ok && (event as { body?: unknown }).body === true,
    checkFailed: ({ event }) => !(event as AskResult).ok,
  },
  actions: {
    take: assign(({ event }) => ({ session: (event as { session: string }).session, pending: undefined })),
    granted: emit({ type: 'reply', body: { ok: true } }),
    forget: emit({ type: 'passivate', forget: true }),
    replyHolder: emit(({ context }) => ({ type: 'reply', body: context.session ?? null })),
  },
}).createMachine({
  id: 'identity',
  context: ({ input }) => ({ id: input.id }),
  initial: 'free',
  on: { holder: { actions: 'replyHolder' } },
  states: {
    free: {
      on: {
        claim: { target: 'held', actions: ['take', 'granted'] },
        release: { actions: [emit({ type: 'reply', body: false }), 'forget'] },
      },
    },
    held: {
      on: {
        claim: [
          { guard: 'mine', actions: 'granted' },
          {
            guard: 'kickMode',
            actions: [
              enqueueActions(({ context, enqueue }) => {
                enqueue.emit({ type: 'tell', to: sessionRef(context.session!), msg: { type: 'kicked', identity: context.id } });
              }),
              'take',
              'granted',
            ],
          },
          {
            target: 'checking',
            actions: [
              assign(({ event }) => ({ pending: event.session })),
              emit(({ context }) => ({
                type: 'ask',
                to: sessionRef(context.session!),
                msg: { type: 'holds', identity: context.id },
                then: 'checked',
              })),
            ],
          },
        ],
        release: [
          { guard: 'mine', target: 'free', actions: [assign({ session: undefined }), emit({ type: 'reply', body: true }), 'forget'] },
          { actions: emit({ type: 'reply', body: false }) },
        ],
      },
    },
    // Transient inside one turn: the holder's answer arrives before any other message.
    checking: {
      on: {
        checked: [
          {
            guard: 'stillHeld',
            target: 'held',
            actions: [
              assign({ pending: undefined }),
              emit(({ context }) => ({
                type: 'reply',
                error: { code: ALREADY_LOGGED_IN, message: `${context.id} is logged in on another connection` },
              })),
            ],
          },
          {
            guard: 'checkFailed',
            target: 'held',
            actions: [
              assign({ pending: undefined }),
              emit({ type: 'reply', error: { code: 'UNAVAILABLE', message: 'cannot check the current login; retry' } }),
            ],
          },
          { target: 'held', actions: [assign(({ context }) => ({ session: context.pending, pending: undefined })), 'granted'] },
        ],
      },
    },
  },
});
