/**
 * The player record (`lobby-player/<Capcom ID>`), durable: every change is written before it is acknowledged.
 * It is the one authority on where a player stands: moves run from here as a chain of asks to the layers
 * (player-nav.ts), inside one turn, so a player can never be half-way between two places for another message.
 *
 * It is a record more than a lifecycle, so most of it is pure handlers (`Outcome = patch + effects`) run by one
 * action; the two-state part is online/offline, which decides what a player may do.
 */
import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import { ok, refuse, LobbyCode } from './model.js';
import { ANSWER_OF, type Answer, type AskPurpose, type Outcome, type PlayerContext, type PlayerEvent, type PlayerInput } from './player-context.js';
import { friendStep, FRIEND_TYPES, friendLists } from './player-friends.js';
import { advance } from './player-nav.js';
import { actionStep } from './player-actions.js';
import { publicRecord } from './player-view.js';
import { PROFILE_BYTES } from './tree.js';

/** Steps of a move, and what to do when the last one answered (nav.purpose). */
function navStep(c: PlayerContext, e: Answer): Outcome {
  if (!c.nav) return { effects: [] };
  const r = advance(c.nav, e.ok ? { ok: true, body: e.body } : { ok: false, error: e.error ?? { code: LobbyCode.Unavailable, message: 'no answer' } });
  if (r.next) return { patch: { nav: r.nav }, effects: [r.next] };
  return actionStep.finishMove(c, r.done!);
}

const handlers: Partial<Record<PlayerEvent['type'], (c: PlayerContext, e: never) => Outcome>> = {
  navStep,
  ...(Object.fromEntries(Object.entries(ANSWER_OF).map(([purpose, type]) => [type, (c: PlayerContext, e: Answer) => actionStep.answer(purpose as AskPurpose, c, e)])) as Record<(typeof ANSWER_OF)[AskPurpose], (c: PlayerContext, e: Answer) => Outcome>),
  login: actionStep.login,
  logout: actionStep.logout,
  conn: actionStep.conn,
  go: actionStep.go,
  reserve: actionStep.reserve,
  unreserve: actionStep.unreserve,
  openCity: actionStep.openCity,
  circleCreate: actionStep.circleCreate,
  circleJoin: actionStep.circleJoin,
  circleLeave: actionStep.circleLeave,
  circleAct: actionStep.circleAct,
  circleGone: actionStep.circleGone,
  audit: actionStep.audit,
  tellMsg: actionStep.tellMsg,
  profileWrite: actionStep.profileWrite,
  claim: actionStep.claim,
  // A record claimed but never logged in is no player yet: reads of it answer as for an unknown id.
  exists: (c: PlayerContext) => ({ effects: [c.created ? ok({ id: c.id }) : refuse(LobbyCode.NotFound, 'no such player')] }),
  profileRead: (c: PlayerContext) => ({ effects: [c.created ? ok({ ...publicRecord(c), profile: c.profile }) : refuse(LobbyCode.NotFound, 'no such player')] }),
  setStatus: actionStep.setStatus,
  where: (c: PlayerContext) => ({ effects: [c.created ? ok({ loc: c.loc }) : refuse(LobbyCode.NotFound, 'no such player')] }),
  whoami: (c: PlayerContext) => ({ effects: [ok({ ...publicRecord(c), created: c.created, reserved: c.reserved, ...friendLists(c) })] }),
};

export const playerMachine = setup({
  types: {} as { context: PlayerContext; events: PlayerEvent; input: PlayerInput; emitted: Effect },
  actions: {
    offline: enqueueActions(({ context, enqueue }) => enqueue.emit(refuse(LobbyCode.NotLoggedIn, `${context.id} is not logged in`))),
    run: enqueueActions(({ context, event, enqueue }) => {
      const h = FRIEND_TYPES.has(event.type) ? (friendStep as (c: PlayerContext, e: never) => Outcome) : handlers[event.type];
      if (!h) return;
      const out = h(context, event as never);
      if (out.patch) enqueue.assign(out.patch);
      for (const e of out.effects) enqueue.emit(e);
    }),
  },
}).createMachine({
  id: 'lobby-player',
  context: ({ input }) => ({
    ...input,
    owner: null,
    created: false,
    name: '',
    hr: 1,
    status: '',
    profile: new Uint8Array(PROFILE_BYTES),
    friends: {},
    pending: {},
    sent: {},
    online: null,
    loc: [],
    circle: null,
    reserved: null,
    seq: 0,
    nav: null,
  }),
  initial: 'offline',
  states: {
    offline: {
      always: { guard: ({ context }) => context.online !== null, target: 'online' },
      // Moving, creating and circles need a connection to push to: only an online player does them.
      on: {
        go: { actions: 'offline' },
        reserve: { actions: 'offline' },
        openCity: { actions: 'offline' },
        circleCreate: { actions: 'offline' },
        circleJoin: { actions: 'offline' },
        circleAct: { actions: 'offline' },
      },
    },
    online: {
      always: { guard: ({ context }) => context.online === null, target: 'offline' },
    },
  },
  on: { '*': { actions: 'run' } },
});

