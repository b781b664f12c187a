/**
 * What every layer (server, gate, city) does alike, as pure functions over its roster: who stands here, pushes to
 * them, chat, whisper, relays and profile broadcasts, reports to the parent, and the audit that removes ghosts.
 *
 * A roster holds every player *under* the layer (a gate counts the players in its cities: capacity is exact and a
 * retried `enter` is idempotent); `here` marks the ones standing in this layer itself, who get its pushes.
 */
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import { ok, Push, refuse, LobbyCode, type MemberInfo, type PublicMember } from './model.js';
import { K, parentOf } from './tree.js';

export interface RosterEntry {
  name: string;
  hr: number;
  conn: ConnRef;
  here: boolean;
}
export type Roster = Record<string, RosterEntry>;

/** Events every layer understands besides its own. Relays and chat are tells; whisper is an ask (it can fail). */
export type SocialEvent =
  | { type: 'chat'; from: string; text: string }
  | { type: 'whisper'; from: string; to: string; text: string }
  | { type: 'relay'; from: string; d: unknown }
  | { type: 'profile'; from: string; offset: number; bytes: Uint8Array }
  | { type: 'conn'; id: string; conn: ConnRef };

export const SOCIAL_TYPES = new Set(['chat', 'whisper', 'relay', 'profile', 'conn']);

export function rosterSize(r: Roster): number {
  let n = 0;
  for (const _ in r) n++;
  return n;
}

/** Connections of the players standing here, optionally without one of them. */
export function hereConns(r: Roster, except?: string): ConnRef[] {
  const out: ConnRef[] = [];
  for (const id in r) {
    const e = r[id]!;
    if (e.here && id !== except) out.push(e.conn);
  }
  return out;
}

/**
 * Members listed in a layer's view (`lobby.layer`, `lobby.enter`): the first ones; the view's `n` is the total. A
 * server layer holds up to 2000 players standing in it (~40 B each listed), more than a 64 KiB frame: the answer to a
 * newcomer's enter would be FRAME_TOO_LARGE although the move was done. 100 entries stay under 5 KiB.
 */
export const VIEW_MEMBERS = 100;

export function herePublic(r: Roster, max = VIEW_MEMBERS): PublicMember[] {
  const out: PublicMember[] = [];
  for (const id in r) {
    if (out.length >= max) break;
    if (r[id]!.here) out.push({ id, name: r[id]!.name, hr: r[id]!.hr });
  }
  return out;
}

/** One push effect to many connections (the host fans out once per gateway), or none when nobody is there. */
export function pushAll(to: ConnRef[], route: string, body: unknown): Effect[] {
  return to.length ? [{ type: 'push', to, route, body }] : [];
}

export function entryOf(p: MemberInfo, here: boolean): RosterEntry {
  return { name: p.name, hr: p.hr, conn: p.conn, here };
}

/** Effects of a player starting or stopping to stand here: the others hear of it. */
export function presenceEffects(layer: string, r: Roster, id: string, arrived: boolean): Effect[] {
  const e = r[id];
  if (!e) return [];
  return arrived
    ? pushAll(hereConns(r, id), Push.join, { layer, id, name: e.name, hr: e.hr })
    : pushAll(hereConns(r, id), Push.leave, { layer, id });
}

/**
 * Chat, whisper, relays and profile changes among the players standing here. None of them changes state except
 * `conn`, so the hot ones (relays at game rate) never cause a snapshot write.
 */
export function socialEffects(layer: string, r: Roster, e: SocialEvent): Step {
  switch (e.type) {
    case 'chat': {
      const from = r[e.from];
      if (!from?.here) return { effects: [] };
      return { effects: pushAll(hereConns(r), Push.chat, { layer, from: e.from, name: from.name, text: e.text }) };
    }
    case 'whisper': {
      const from = r[e.from];
      const to = r[e.to];
      if (!from?.here) return { effects: [refuse(LobbyCode.NotInLayer, `${e.from} is not in ${layer}`)] };
      if (!to?.here) return { effects: [refuse(LobbyCode.NotHere, `${e.to} is not in ${layer}`)] };
      return { effects: [{ type: 'push', to: to.conn, route: Push.whisper, body: { from: e.from, name: from.name, text: e.text } }, ok()] };
    }
    case 'relay':
      if (!r[e.from]?.here) return { effects: [] };
      return { effects: pushAll(hereConns(r, e.from), Push.relay, { f: e.from, d: e.d }) };
    case 'profile':
      if (!r[e.from]?.here) return { effects: [] };
      return { effects: pushAll(hereConns(r, e.from), Push.profile, { id: e.from, offset: e.offset, bytes: e.bytes }) };
    case 'conn': {
      const cur = r[e.id];
      if (!cur || (cur.conn.gw === e.conn.gw && cur.conn.id === e.conn.id)) return { effects: [] };
      return { effects: [], roster: { ...r, [e.id]: { ...cur, conn: e.conn } } };
    }
  }
}

/** The count report to the parent layer (none for a server). */
export function reportEffect(layer: string, body: Record<string, unknown>): Effect[] {
  const to = parentOf(layer);
  return to ? [{ type: 'tell', to, msg: { type: 'report', child: layer, ...body } }] : [];
}

/**
 * Asks children this layer believes occupied to report again. A child that emptied while its report was lost (its
 * parent's node was down) has no timer left to correct it; the parent's refresh does.
 */
export function pokeEffects(kind: string, ids: string[]): Effect[] {
  return ids.map((id) => ({ type: 'tell', to: { kind, id }, msg: { type: 'poke' } }));
}

/**
 * Asks every player on the roster whether it still stands under this layer. A player whose record says otherwise
 * (its `leave` was lost to a crash or a timeout) answers with `leave`; the one standing here re-indexes itself for
 * search. Tells only: the audit never holds this layer's mailbox.
 */
export function auditEffects(layer: string, r: Roster): Effect[] {
  const out: Effect[] = [];
  for (const id in r) out.push({ type: 'tell', to: { kind: K.player, id }, msg: { type: 'audit', layer } });
  return out;
}

export function without(r: Roster, id: string): Roster {
  const next = { ...r };
  delete next[id];
  return next;
}

/** Pages of a list view: `offset`, at most `limit` (capped) items. */
export function page<T>(items: T[], offset: number, limit: number): { total: number; offset: number; items: T[] } {
  const o = Math.max(0, Math.floor(offset));
  return { total: items.length, offset: o, items: items.slice(o, o + Math.max(0, Math.min(100, Math.floor(limit)))) };
}

export interface Step {
  roster?: Roster;
  effects: Effect[];
}

/** The slice of XState's `enqueue` the layer helpers use. */
export interface Enqueue {
  emit(e: Effect): void;
  assign(a: { roster: Roster }): void;
}

export function emitAll(enqueue: Pick<Enqueue, 'emit'>, effects: readonly Effect[]): void {
  for (const e of effects) enqueue.emit(e);
}

export function applyStep(enqueue: Enqueue, step: Step): void {
  if (step.roster) enqueue.assign({ roster: step.roster });
  emitAll(enqueue, step.effects);
}

/**
 * A player enters (or, already on the roster, changes whether it stands here). `refusal` is asked only for a
 * newcomer: capacity and rank rules apply to arrivals, not to someone moving within the layer. A newcomer changes
 * the count, so the parent hears of it; `reply` builds the answer from the new roster.
 */
export function enterStep(
  layer: string,
  r: Roster,
  e: { p: MemberInfo; here: boolean },
  refusal: () => Effect | undefined,
  reply: (roster: Roster) => unknown,
): Step {
  const cur = r[e.p.id];
  if (!cur) {
    const no = refusal();
    if (no) return { effects: [no] };
  }
  const roster = { ...r, [e.p.id]: entryOf(e.p, e.here) };
  const effects: Effect[] = [];
  if (!cur || cur.here !== e.here) effects.push(...presenceEffects(layer, roster, e.p.id, e.here));
  if (!cur) effects.push(...reportEffect(layer, { n: rosterSize(roster) }));
  effects.push(ok(reply(roster)));
  return { roster, effects };
}

/** A player leaves the layer and everything under it. Idempotent: leaving twice is fine. */
export function leaveStep(layer: string, r: Roster, id: string): Step {
  const cur = r[id];
  if (!cur) return { effects: [ok()] };
  const effects = cur.here ? presenceEffects(layer, r, id, false) : [];
  const roster = without(r, id);
  effects.push(...reportEffect(layer, { n: rosterSize(roster) }), ok());
  return { roster, effects };
}
