/**
 * A city (`s03-g12-c07`): up to four hunters, a leader, settings, and up to four quest-circle slots.
 *
 *   empty ──reserve──▶ reserved ──open (same player, with settings)──▶ open ──last one leaves──▶ empty (reset)
 *                         └── not opened within reservationMs ──▶ empty
 *
 * Creating a city is two steps, as in MH3: reserving an empty city keeps others out while its creator picks
 * settings; a reservation nobody completes expires (an XState `after`, persisted with the snapshot so it survives
 * passivation and fail-over). An emptied city resets and deletes its stored state. Everything a list view or a
 * city search needs is reported to the gate and to the city index of the server's type on each change.
 */
import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import { circleEffects, freeSlot } from './city-circles.js';
import type { CityContext, CityEvent, CityInput } from './city-context.js';
import { cityInfo, reportEffects } from './city-view.js';
import { applyStep as apply, emitAll, presenceEffects, pushAll, hereConns, rosterSize, socialEffects, SOCIAL_TYPES, without, type SocialEvent } from './layer.js';
import { NO_SETTINGS, ok, Push, refuse, LobbyCode } from './model.js';
import { circleId, K } from './tree.js';

const RESET = { roster: {}, order: [], leader: null, settings: NO_SETTINGS, reservedBy: null, circles: {}, creating: null };

export const cityMachine = setup({
  types: {} as { context: CityContext; events: CityEvent; input: CityInput; emitted: Effect },
  delays: { reservation: ({ context }) => context.reservationMs, refresh: ({ context }) => context.refreshMs },
  guards: {
    byReserver: ({ context, event }) => 'p' in event && context.reservedBy?.id === event.p.id,
    emptied: ({ context }) => rosterSize(context.roster) === 0,
  },
  actions: {
    social: enqueueActions(({ context, event, enqueue }) => {
      if (SOCIAL_TYPES.has(event.type)) apply(enqueue, socialEffects(context.id, context.roster, event as SocialEvent));
    }),
    closed: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'enter') enqueue.emit(refuse(LobbyCode.NotOpen, 'this city is empty: reserve it to create it'));
      else if (event.type === 'open') enqueue.emit(refuse(LobbyCode.NotReserved, 'no reservation for you here (it may have expired)'));
      else enqueue.emit(refuse(LobbyCode.NotMember, 'nobody is in this city'));
    }),
  },
}).createMachine({
  id: 'lobby-city',
  context: ({ input }) => ({ ...input, ...RESET }),
  initial: 'empty',
  on: {
    chat: { actions: 'social' },
    whisper: { actions: 'social' },
    relay: { actions: 'social' },
    profile: { actions: 'social' },
    conn: { actions: 'social' },
    // A leave for someone not here is fine (idempotent); answering it keeps retries and audits simple.
    leave: { actions: enqueueActions(({ enqueue }) => enqueue.emit(ok())) },
  },
  states: {
    empty: {
      on: {
        reserve: {
          target: 'reserved',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const next = { ...context, reservedBy: event.p };
            enqueue.assign({ reservedBy: event.p });
            emitAll(enqueue, reportEffects(next, 'reserved'));
            enqueue.emit(ok({ city: context.id, expiresInMs: context.reservationMs }));
          }),
        },
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(cityInfo(context, 'empty')))) },
        poke: { actions: enqueueActions(({ context, enqueue }) => emitAll(enqueue, reportEffects(context, 'empty'))) },
        enter: { actions: 'closed' },
        open: { actions: 'closed' },
        settings: { actions: 'closed' },
        circleOpen: { actions: 'closed' },
      },
    },
    reserved: {
      after: {
        reservation: {
          target: 'empty',
          actions: enqueueActions(({ context, enqueue }) => {
            if (context.reservedBy) enqueue.emit({ type: 'push', to: context.reservedBy.conn, route: Push.reservationExpired, body: { city: context.id } });
            enqueue.assign(RESET);
            emitAll(enqueue, reportEffects({ ...context, ...RESET }, 'empty'));
            enqueue.emit({ type: 'passivate', forget: true });
          }),
        },
      },
      on: {
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(cityInfo(context, 'reserved')))) },
        poke: { actions: enqueueActions(({ context, enqueue }) => emitAll(enqueue, reportEffects(context, 'reserved'))) },
        reserve: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotEmpty, 'this city is being created by someone else'))) },
        unreserve: {
          guard: ({ context, event }) => context.reservedBy?.id === event.id,
          target: 'empty',
          actions: enqueueActions(({ context, enqueue }) => {
            enqueue.assign(RESET);
            emitAll(enqueue, reportEffects({ ...context, ...RESET }, 'empty'));
            enqueue.emit(ok());
            enqueue.emit({ type: 'passivate', forget: true });
          }),
        },
        open: [
          {
            guard: 'byReserver',
            target: 'open',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const next = { ...context, roster: { [event.p.id]: { name: event.p.name, hr: event.p.hr, conn: event.p.conn, here: true } }, order: [event.p.id], leader: event.p.id, settings: event.settings, reservedBy: null };
              enqueue.assign(next);
              emitAll(enqueue, reportEffects(next, 'open'));
              enqueue.emit(ok(cityInfo(next, 'open')));
            }),
          },
          { actions: 'closed' },
        ],
        enter: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotOpen, 'this city is being created; try again shortly'))) },
      },
    },
    open: {
      initial: 'live',
      states: {
        live: {
          after: {
            refresh: {
              target: 'live',
              reenter: true,
              actions: enqueueActions(({ context, enqueue }) => {
                emitAll(enqueue, reportEffects(context, 'open'));
                for (const id of context.order) enqueue.emit({ type: 'tell', to: { kind: K.player, id }, msg: { type: 'audit', layer: context.id } });
              }),
            },
          },
        },
      },
      always: {
        guard: 'emptied',
        target: 'empty',
        actions: enqueueActions(({ context, enqueue }) => {
          enqueue.assign(RESET);
          emitAll(enqueue, reportEffects({ ...context, ...RESET }, 'empty'));
          enqueue.emit({ type: 'passivate', forget: true });
        }),
      },
      on: {
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(cityInfo(context, 'open')))) },
        poke: { actions: enqueueActions(({ context, enqueue }) => emitAll(enqueue, reportEffects(context, 'open'))) },
        reserve: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotEmpty, 'this city is open: join it instead'))) },
        open: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotReserved, 'this city is already open'))) },
        enter: {
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            const known = c.roster[e.p.id];
            if (!known) {
              if (rosterSize(c.roster) >= c.capacity) return enqueue.emit(refuse(LobbyCode.Full, `city ${c.id} is full (${c.capacity})`));
              if (e.p.hr < c.settings.hrMin || e.p.hr > c.settings.hrMax) {
                return enqueue.emit(refuse(LobbyCode.HrLimit, `city ${c.id} admits HR ${c.settings.hrMin}–${c.settings.hrMax}; yours is ${e.p.hr}`));
              }
            }
            const next = { ...c, roster: { ...c.roster, [e.p.id]: { name: e.p.name, hr: e.p.hr, conn: e.p.conn, here: true } }, order: known ? c.order : [...c.order, e.p.id] };
            enqueue.assign({ roster: next.roster, order: next.order });
            if (!known) {
              emitAll(enqueue, presenceEffects(c.id, next.roster, e.p.id, true));
              emitAll(enqueue, reportEffects(next, 'open'));
            }
            enqueue.emit(ok(cityInfo(next, 'open')));
          }),
        },
        leave: {
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            if (!c.roster[e.id]) return enqueue.emit(ok());
            emitAll(enqueue, presenceEffects(c.id, c.roster, e.id, false));
            const order = c.order.filter((id) => id !== e.id);
            const leader = c.leader === e.id ? (order[0] ?? null) : c.leader;
            const next = { ...c, roster: without(c.roster, e.id), order, leader };
            enqueue.assign({ roster: next.roster, order, leader });
            if (leader && leader !== c.leader) {
              emitAll(enqueue, pushAll(hereConns(next.roster), Push.leader, { layer: c.id, leader, name: next.roster[leader]!.name }));
            }
            // The last one out resets the city (the `always` above); otherwise the gate and index hear the new count.
            if (order.length) emitAll(enqueue, reportEffects(next, 'open'));
            enqueue.emit(ok());
          }),
        },
        settings: {
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            if (c.leader !== e.from) return enqueue.emit(refuse(LobbyCode.NotLeader, 'only the city leader changes its settings'));
            const next = { ...c, settings: e.settings };
            enqueue.assign({ settings: e.settings });
            emitAll(enqueue, pushAll(hereConns(c.roster), Push.citySettings, { layer: c.id, settings: e.settings }));
            emitAll(enqueue, reportEffects(next, 'open'));
            enqueue.emit(ok(e.settings));
          }),
        },
        circleOpen: {
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            if (!c.roster[e.p.id]) return enqueue.emit(refuse(LobbyCode.NotMember, `you are not in city ${c.id}`));
            const slot = freeSlot(c);
            if (slot === null) return enqueue.emit(refuse(LobbyCode.NoQuestSlot, `no quest slot: city ${c.id} has ${c.circleSlots} circles already`));
            enqueue.assign({ creating: { slot, p: e.p, locked: e.password !== '', goal: e.goal } });
            enqueue.emit({ type: 'ask', to: { kind: K.circle, id: circleId(c.id, slot) }, msg: { type: 'create', p: e.p, password: e.password, goal: e.goal }, then: 'circleCreated', timeoutMs: 3000 });
          }),
        },
        circleCreated: { actions: enqueueActions(({ context, event, enqueue }) => emitAll(enqueue, circleEffects.created(context, event, enqueue))) },
        circleReport: { actions: enqueueActions(({ context, event, enqueue }) => emitAll(enqueue, circleEffects.report(context, event, enqueue))) },
      },
    },
  },
});

