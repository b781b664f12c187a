/**
 * Runs a lobby machine by itself (no runtime, no bus): send an event, get the effects it emitted. Time moves only
 * through the ManualClock given to XState, so `after` timers (reservation expiry, refresh) are driven, not waited.
 */
import { createActor, type AnyStateMachine, type InputFrom, type SnapshotFrom } from 'xstate';
import type { ConnRef, Effect } from '../../actors/runtime/effects.js';
import { ManualClock } from '../../common/clock.js';
import type { MemberInfo } from '../../lobby/model.js';
import { LOBBY_DEFAULTS } from '../../lobby/config.js';
import type { LobbyTree } from '../../lobby/tree.js';

export const TREE: LobbyTree = LOBBY_DEFAULTS;

export interface Pure<M extends AnyStateMachine> {
  send(event: Record<string, unknown> & { type: string }): Effect[];
  readonly snapshot: SnapshotFrom<M>;
  readonly clock: ManualClock;
  /** Effects emitted since the last `send` (e.g. by timers). */
  drain(): Effect[];
}

export function pure<M extends AnyStateMachine>(machine: M, input: InputFrom<M>, clock = new ManualClock()): Pure<M> {
  const fx: Effect[] = [];
  const actor = createActor(machine, { input, clock });
  actor.on('*', (e) => fx.push(e as Effect));
  actor.start();
  return {
    send(event) {
      fx.length = 0;
      actor.send(event as never);
      return fx.splice(0);
    },
    get snapshot() {
      return actor.getSnapshot() as SnapshotFrom<M>;
    },
    clock,
    drain: () => fx.splice(0),
  };
}

export const conn = (n: number | string): ConnRef => ({ gw: 'gw1', id: `c${n}` });

/** A hunter: Capcom ID `P0000n`-style ids, rank 10 unless given. */
export function hunter(n: number, hr = 10): MemberInfo {
  return { id: `P${String(n).padStart(5, '0')}`, name: `Hunter${n}`, hr, conn: conn(n) };
}

export const replies = (fx: Effect[]) => fx.filter((e): e is Extract<Effect, { type: 'reply' }> => e.type === 'reply');
export const reply = (fx: Effect[]) => replies(fx)[0];
export const pushes = (fx: Effect[], route?: string) => fx.filter((e): e is Extract<Effect, { type: 'push' }> => e.type === 'push' && (!route || e.route === route));
export const tells = (fx: Effect[], kind?: string) => fx.filter((e): e is Extract<Effect, { type: 'tell' }> => e.type === 'tell' && (!kind || e.to.kind === kind));
export const asks = (fx: Effect[]) => fx.filter((e): e is Extract<Effect, { type: 'ask' }> => e.type === 'ask');
export const errorCode = (fx: Effect[]) => reply(fx)?.error?.code;
/** Connection ids a push went to. */
export const targets = (p: Extract<Effect, { type: 'push' }>) => (Array.isArray(p.to) ? p.to : [p.to]).map((c) => c.id).sort();
