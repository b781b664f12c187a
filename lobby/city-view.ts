/**
 * How a city looks from outside: the summary its gate lists and the city index searches, and the view a player
 * gets on entering. Pure functions of the city's context.
 */
import type { Effect } from '../actors/runtime/effects.js';
import type { CityContext } from './city-context.js';
import { herePublic, rosterSize } from './layer.js';
import type { CitySummary } from './model.js';
import { circleId, K, parentOf } from './tree.js';

export function circleList(c: Pick<CityContext, 'circles' | 'id'>) {
  return Object.entries(c.circles)
    .map(([slot, s]) => ({ id: circleId(c.id, Number(slot)), slot: Number(slot), ...s }))
    .sort((a, b) => a.slot - b.slot);
}

export function summaryOf(c: CityContext, state: CitySummary['state']): CitySummary {
  const n = rosterSize(c.roster);
  return { n, state, leader: c.leader ? c.roster[c.leader]?.name : undefined, settings: state === 'open' ? c.settings : undefined, circles: Object.keys(c.circles).length };
}

/** Tells the gate (list view) and the city index (search) how this city looks now. */
export function reportEffects(c: CityContext, state: CitySummary['state']): Effect[] {
  const s = summaryOf(c, state);
  return [
    { type: 'tell', to: parentOf(c.id)!, msg: { type: 'report', child: c.id, ...s } },
    { type: 'tell', to: { kind: K.cityIndex, id: c.serverType }, msg: state === 'open' ? { type: 'put', city: c.id, ...s } : { type: 'del', city: c.id } },
  ];
}

export function cityInfo(c: CityContext, state: CitySummary['state']) {
  return { layer: c.id, level: 'city', capacity: c.capacity, ...summaryOf(c, state), settings: c.settings, leaderId: c.leader, members: herePublic(c.roster), circles: circleList(c) };
}

