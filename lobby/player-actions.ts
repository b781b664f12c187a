/**
 * What a player does, as pure handlers over its record: log in and out, move, create a city, circles, audits,
 * tells and the profile. Each returns the record patch and the effects (asks, tells, pushes, the reply).
 */
import type { Effect } from '../actors/runtime/effects.js';
import type { WireError } from '../common/errors.js';
import { ok, Push, refuse, LobbyCode } from './model.js';
import { friendLists } from './player-friends.js';
import { askFor, planMove, type Nav, type NavPurpose } from './player-nav.js';
import { ANSWER_OF, type Answer, type AskPurpose, type Outcome, type PlayerContext, type PlayerEvent } from './player-context.js';
import { memberOf, publicRecord } from './player-view.js';
import { chainOf, indexShardOf, K, kindOfLayer } from './tree.js';

type Ev<T extends PlayerEvent['type']> = Extract<PlayerEvent, { type: T }>;

function indexUpdate(c: PlayerContext, loc: string[] | null, seq: number): Effect {
  const to = { kind: K.playerIndex, id: indexShardOf(c.id, c.searchShards) };
  const put = { type: 'put', id: c.id, name: c.name, loc, seq, ...(c.weapon && { weapon: c.weapon }) };
  return { type: 'tell', to, msg: loc ? put : { type: 'del', id: c.id, seq } };
}

function loginView(c: PlayerContext) {
  return { ...publicRecord(c), ...friendLists(c) };
}

/** Starts a move (or the leaving part of a login/logout); with nothing to do it finishes at once. */
function startMove(c: PlayerContext, goal: string[], purpose: NavPurpose, open?: Ev<'openCity'>['settings']): Outcome {
  const steps = planMove(c.loc, goal, memberOf(c), { circle: c.circle, open });
  const nav: Nav = { purpose, goal, steps, at: 0 };
  if (steps.length === 0) return actionStep.finishMove({ ...c, nav }, {});
  return { patch: { nav }, effects: [askFor(steps[0]!)] };
}

/** One ask; its answer comes back as the purpose's own event (player-context.ts ANSWER_OF), the record unchanged meanwhile. */
function ask(purpose: AskPurpose, to: { kind: string; id: string }, msg: unknown): Outcome {
  return { effects: [{ type: 'ask', to, msg, then: ANSWER_OF[purpose], timeoutMs: 3000 }] };
}

const leaf = (c: PlayerContext) => c.loc[c.loc.length - 1];
const cityOf = (circle: string) => circle.slice(0, circle.lastIndexOf('-'));

export const actionStep = {
  /** The first login of an ID makes its account the owner; a token listing the ID overrides (its issuer decides). */
  claim(c: PlayerContext, e: Ev<'claim'>): Outcome {
    const owner = c.owner ?? null;
    if (owner === e.account) return { effects: [ok()] };
    if (owner !== null && !e.listed) return { effects: [refuse(LobbyCode.NotYourId, `Capcom ID ${c.id} belongs to another account`)] };
    return { patch: { owner: e.account }, effects: [ok()] };
  },

  login(c: PlayerContext, e: Ev<'login'>): Outcome {
    // The gateway refuses a second live session cluster-wide and then sends `force`: the record's `online` can only
    // be stale (a session that ended without a logout). Without `force`, the record refuses a duplicate itself.
    if (c.online && !e.force && c.online.session !== e.session) {
      return { effects: [refuse(LobbyCode.AlreadyOnline, `Capcom ID ${c.id} is already online`)] };
    }
    const next: PlayerContext = { ...c, created: true, name: e.name || c.name, hr: e.hr, weapon: e.weapon ?? c.weapon, online: { conn: e.conn, session: e.session } };
    // A record that still stands somewhere (its last session ended uncleanly) leaves quietly first.
    const out = startMove({ ...next, reserved: null }, [], 'login');
    const weapon = next.weapon ? { weapon: next.weapon } : {};
    return { patch: { created: true, name: next.name, hr: next.hr, ...weapon, online: next.online, reserved: null, ...out.patch }, effects: out.effects };
  },

  logout(c: PlayerContext, e: Ev<'logout'>): Outcome {
    // A late logout of an older session must not end the newer one.
    if (!c.online || (e.session !== '' && c.online.session !== e.session)) return { effects: [ok()] };
    return startMove(c, [], 'logout');
  },

  /** Last step of a move: the record changes only now, after every layer agreed. */
  finishMove(c: PlayerContext, done: { failed?: WireError; view?: unknown }): Outcome {
    const nav = c.nav!;
    if (done.failed) return { patch: { nav: null }, effects: [{ type: 'reply', error: done.failed }] };
    const goal = nav.goal;
    const seq = c.seq + 1;
    const circle = c.circle && goal.includes(cityOf(c.circle)) ? c.circle : null;
    const reserved = c.reserved === goal[goal.length - 1] ? null : c.reserved;
    const base = { nav: null, loc: goal, seq, circle, reserved };
    if (nav.purpose === 'logout') {
      return { patch: { ...base, online: null, reserved: null }, effects: [indexUpdate(c, null, seq), ok()] };
    }
    const effects: Effect[] = [indexUpdate(c, goal, seq)];
    if (nav.purpose === 'login') effects.push(ok(loginView({ ...c, ...base })));
    else effects.push(ok({ loc: goal, view: done.view ?? null }));
    return { patch: base, effects };
  },

  go(c: PlayerContext, e: Ev<'go'>): Outcome {
    return startMove(c, e.to, 'move');
  },

  conn(c: PlayerContext, e: Ev<'conn'>): Outcome {
    if (!c.online || c.online.session !== e.session) return { effects: [refuse(LobbyCode.NotLoggedIn, 'no such session')] };
    const tell = (to: { kind: string; id: string }): Effect => ({ type: 'tell', to, msg: { type: 'conn', id: c.id, conn: e.conn } });
    const effects = c.loc.map((id) => tell({ kind: kindOfLayer(id), id }));
    if (c.circle) effects.push(tell({ kind: K.circle, id: c.circle }));
    return { patch: { online: { conn: e.conn, session: e.session } }, effects: [...effects, ok()] };
  },

  reserve(c: PlayerContext, e: Ev<'reserve'>): Outcome {
    const gate = chainOf(e.city)[1]!;
    if (leaf(c) !== gate) return { effects: [refuse(LobbyCode.NotInLayer, `enter gate ${gate} first to create one of its cities`)] };
    return ask('reserve', { kind: K.city, id: e.city }, { type: 'reserve', p: memberOf(c) });
  },

  unreserve(c: PlayerContext): Outcome {
    if (!c.reserved) return { effects: [ok()] };
    return { patch: { reserved: null }, effects: [{ type: 'tell', to: { kind: K.city, id: c.reserved }, msg: { type: 'unreserve', id: c.id } }, ok()] };
  },

  openCity(c: PlayerContext, e: Ev<'openCity'>): Outcome {
    if (!c.reserved) return { effects: [refuse(LobbyCode.NotReserved, 'reserve an empty city first')] };
    return startMove(c, chainOf(c.reserved), 'move', e.settings);
  },

  circleCreate(c: PlayerContext, e: Ev<'circleCreate'>): Outcome {
    const city = leaf(c);
    if (c.loc.length !== 3 || !city) return { effects: [refuse(LobbyCode.NotInLayer, 'quest circles are made in a city')] };
    if (c.circle) return { effects: [refuse(LobbyCode.InCircle, `leave circle ${c.circle} first`)] };
    return ask('circleCreate', { kind: K.city, id: city }, { type: 'circleOpen', p: memberOf(c), password: e.password, goal: e.goal });
  },

  circleJoin(c: PlayerContext, e: Ev<'circleJoin'>): Outcome {
    if (leaf(c) !== cityOf(e.circle)) return { effects: [refuse(LobbyCode.NotInLayer, `enter city ${cityOf(e.circle)} first`)] };
    if (c.circle && c.circle !== e.circle) return { effects: [refuse(LobbyCode.InCircle, `leave circle ${c.circle} first`)] };
    return ask('circleJoin', { kind: K.circle, id: e.circle }, { type: 'join', p: memberOf(c), password: e.password });
  },

  circleLeave(c: PlayerContext): Outcome {
    if (!c.circle) return { effects: [ok()] };
    return ask('circleLeave', { kind: K.circle, id: c.circle }, { type: 'leave', id: c.id });
  },

  circleAct(c: PlayerContext, e: Ev<'circleAct'>): Outcome {
    if (!c.circle) return { effects: [refuse(LobbyCode.NotMember, 'you are in no quest circle')] };
    const msg = e.op === 'ready' ? { type: 'ready', id: c.id, ready: e.ready } : { type: 'depart', id: c.id };
    return ask('circleAct', { kind: K.circle, id: c.circle }, msg);
  },

  circleGone(c: PlayerContext, e: Ev<'circleGone'>): Outcome {
    return c.circle === e.circle ? { patch: { circle: null }, effects: [] } : { effects: [] };
  },

  /**
   * The answer to a single ask, by what it was for: refusals and answers that change nothing (ready, depart) leave
   * the record as it is, so the turn writes nothing. The answer bodies name their layer: the city's to `reserve`
   * (`city`), the circle's to `create` and `join` (`circle`).
   */
  answer(purpose: AskPurpose, c: PlayerContext, e: Answer): Outcome {
    if (!e.ok) return { effects: [{ type: 'reply', error: e.error ?? { code: LobbyCode.Unavailable, message: 'no answer' } }] };
    const body = e.body as { city?: string; circle?: string } | undefined;
    let patch: Partial<PlayerContext> | undefined;
    if (purpose === 'reserve') patch = { reserved: body?.city ?? null };
    if (purpose === 'circleCreate' || purpose === 'circleJoin') patch = { circle: body?.circle ?? null };
    if (purpose === 'circleLeave' && c.circle !== null) patch = { circle: null };
    return { ...(patch && { patch }), effects: [ok(e.body)] };
  },

  /**
   * A layer asks whether the player still stands under it. A record that says otherwise tells the layer to drop it
   * (a ghost left by a lost `leave`); the layer it stands in refreshes the search index entry.
   */
  audit(c: PlayerContext, e: Ev<'audit'>): Outcome {
    if (!c.online || !c.loc.includes(e.layer)) {
      return { effects: [{ type: 'tell', to: { kind: kindOfLayer(e.layer), id: e.layer }, msg: { type: 'leave', id: c.id } }] };
    }
    return { effects: leaf(c) === e.layer ? [indexUpdate(c, c.loc, c.seq)] : [] };
  },

  tellMsg(c: PlayerContext, e: Ev<'tellMsg'>): Outcome {
    if (!c.online) return { effects: [refuse(LobbyCode.NotOnline, `${c.id} is not online`)] };
    return { effects: [{ type: 'push', to: c.online.conn, route: Push.tell, body: { from: e.from, name: e.name, text: e.text } }, ok()] };
  },

  /** A piece of the 256-byte profile; everyone standing in the player's layer sees the change. */
  profileWrite(c: PlayerContext, e: Ev<'profileWrite'>): Outcome {
    if (!c.created) return { effects: [refuse(LobbyCode.NotLoggedIn, 'log in first')] };
    if (e.offset + e.bytes.length > c.profile.length) {
      return { effects: [refuse(LobbyCode.BadRequest, `profile is ${c.profile.length} bytes: ${e.offset}+${e.bytes.length} is past its end`)] };
    }
    const profile = new Uint8Array(c.profile);
    profile.set(e.bytes, e.offset);
    const where = leaf(c);
    const effects: Effect[] = where ? [{ type: 'tell', to: { kind: kindOfLayer(where), id: where }, msg: { type: 'profile', from: c.id, offset: e.offset, bytes: e.bytes } }] : [];
    return { patch: { profile }, effects: [...effects, ok()] };
  },

  setStatus(c: PlayerContext, e: Ev<'setStatus'>): Outcome {
    const patch = { status: e.status ?? c.status, hr: e.hr ?? c.hr, ...((e.weapon ?? c.weapon) && { weapon: e.weapon ?? c.weapon }) };
    return { patch, effects: [ok(publicRecord({ ...c, ...patch }))] };
  },
};
