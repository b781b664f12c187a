/**
 * The quest-circle slots of a city. The city hands out slots (at most `circleSlots`, else "no quest slot") and
 * shows the circles in its view; each circle is its own actor (circle.machine.ts) and tells the city how it looks.
 */
import type { Effect } from '../actors/runtime/effects.js';
import type { WireError } from '../common/errors.js';
import type { CircleSlot, CityContext } from './city-context.js';
import { circleList, reportEffects } from './city-view.js';
import { hereConns, pushAll } from './layer.js';
import { ok, Push, type LobbyCode } from './model.js';
import { circleId } from './tree.js';

export function freeSlot(c: Pick<CityContext, 'circles' | 'circleSlots'>): number | null {
  for (let q = 1; q <= c.circleSlots; q++) if (!c.circles[q]) return q;
  return null;
}

type Assign = { assign(a: Partial<CityContext>): void };

/**
 * The members see the new circle list; the gate and the city index hear of it only when the city's summary changed,
 * i.e. its number of circles (a circle's members, state or leader are not in the summary): most circle changes
 * (joins, ready, departures) used to send both a report, which the gate then dropped as unchanged, and an index put.
 */
function changed(prev: CityContext, next: CityContext): Effect[] {
  const push = pushAll(hereConns(next.roster), Push.circles, { layer: next.id, circles: circleList(next) });
  return Object.keys(prev.circles).length === Object.keys(next.circles).length ? push : [...push, ...reportEffects(next, 'open')];
}

export const circleEffects = {
  /** The circle's answer to `create`, inside the same turn as the city's `circleOpen`. */
  created(c: CityContext, e: { ok: boolean; body?: unknown; error?: WireError }, enqueue: Assign): Effect[] {
    const pending = c.creating;
    if (!pending) return [];
    if (!e.ok) {
      enqueue.assign({ creating: null });
      return [{ type: 'reply', error: e.error ?? { code: 'UNAVAILABLE' satisfies LobbyCode, message: 'circle not created' } }];
    }
    const circles = { ...c.circles, [pending.slot]: { n: 1, state: 'forming' as const, leader: pending.p.name, goal: pending.goal, locked: pending.locked } };
    enqueue.assign({ creating: null, circles });
    return [...changed(c, { ...c, circles }), ok({ circle: circleId(c.id, pending.slot), ...(e.body as object) })];
  },

  /** A circle's change: members, departure, leader, or closing (its slot is free again). */
  report(c: CityContext, e: { slot: number; n: number; state: CircleSlot['state']; leader: string; closed: boolean }, enqueue: Assign): Effect[] {
    const cur = c.circles[e.slot];
    if (e.closed && !cur) return [];
    if (!e.closed && cur && cur.n === e.n && cur.state === e.state && cur.leader === e.leader) return [];
    const circles = { ...c.circles };
    if (e.closed) delete circles[e.slot];
    else circles[e.slot] = { goal: cur?.goal ?? '', locked: cur?.locked ?? false, n: e.n, state: e.state, leader: e.leader };
    enqueue.assign({ circles });
    return changed(c, { ...c, circles });
  },
};
