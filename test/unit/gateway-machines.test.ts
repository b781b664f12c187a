/**
 * The gateway's actors as pure transitions (xstate `transition`, nothing runs): connection lifecycle, session
 * attach / detach / grace / resume / end, identity claims in both duplicate-login modes; and their kinds refusing
 * malformed messages. Timers are delayed events: the tests deliver them by name.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyStateMachine, type EventObject } from 'xstate';
import type { ConnRef, Effect } from '../../actors/runtime/effects.js';
import { connectionMachine } from '../../actors/connection/connection.machine.js';
import { connKind } from '../../actors/connection/connection.js';
import { sessionMachine } from '../../actors/session/session.machine.js';
import { sessionKind } from '../../actors/session/session.js';
import { identityMachine } from '../../actors/session/identity.machine.js';
import { identityKind } from '../../actors/session/identity.js';

type Snap = { value: unknown; context: Record<string, unknown>; status: string };

function machineOf<M extends AnyStateMachine>(m: M, input: unknown) {
  let s = initialTransition(m, input as never)[0] as unknown;
  return {
    get state(): Snap {
      return s as Snap;
    },
    /** Sends an event; returns the effects emitted and the delayed events scheduled. */
    send(e: EventObject & Record<string, unknown>): { fx: Effect[]; timers: string[] } {
      const [next, actions] = transition(m, s as never, e as never);
      s = next;
      const list = actions as unknown as Array<{ type: string; params?: { event?: { type: string }; delay?: number } }>;
      return {
        fx: list.filter((a) => a.type === 'xstate.emit').map((a) => a.params!.event as unknown as Effect),
        timers: list.filter((a) => a.type === 'xstate.raise' && a.params?.delay !== undefined).map((a) => a.params!.event!.type),
      };
    },
  };
}

const c1: ConnRef = { gw: 'gw1', id: 'c1' };
const c2: ConnRef = { gw: 'gw2', id: 'c2' };
const connAddr = (c: ConnRef) => ({ kind: 'conn', id: c.id, node: c.gw });

describe('conn machine', () => {
  const input = { gw: 'gw1', id: 'c1', proto: 'native', transport: 'ws' };

  it('handshaking → open → done; a durable session hears `detach` on a resumable close', () => {
    const m = machineOf(connectionMachine, input);
    expect(m.state.value).toBe('handshaking');
    m.send({ type: 'open', session: 's1', durable: false });
    m.send({ type: 'session', session: 's1', identity: 'ann', durable: true });
    expect(m.state.value).toBe('open');
    const { fx } = m.send({ type: 'closed', resumable: true });
    expect(fx).toEqual([{ type: 'tell', to: { kind: 'session', id: 's1' }, msg: { type: 'detach', conn: c1 } }, { type: 'passivate' }]);
    expect(m.state.status).toBe('done');
  });

  it('an anonymous session is the gateway’s business: no notice', () => {
    const m = machineOf(connectionMachine, input);
    m.send({ type: 'open', session: 's1', durable: false });
    expect(m.send({ type: 'closed', resumable: true }).fx).toEqual([{ type: 'passivate' }]);
  });

  it('pushes on request, and a kick closes it through the gateway; the session is ended, not kept', () => {
    const m = machineOf(connectionMachine, input);
    m.send({ type: 'open', session: 's1', durable: true });
    expect(m.send({ type: 'push', route: 'news', body: 1 }).fx).toEqual([{ type: 'push', to: c1, route: 'news', body: 1 }]);
    expect(m.send({ type: 'kick', code: 4102, reason: 'replaced' }).fx).toEqual([
      { type: 'push', to: c1, route: '$close', body: { code: 4102, reason: 'replaced' } },
    ]);
    expect(m.state.value).toBe('closing');
    expect(m.send({ type: 'closed', resumable: false }).fx[0]).toEqual({
      type: 'tell',
      to: { kind: 'session', id: 's1' },
      msg: { type: 'end', conn: c1 },
    });
  });

  it('refuses malformed messages (no `$` routes, close codes in range)', () => {
    const bad = [{ type: 'push', route: '$close', body: {} }, { type: 'kick', code: 1000 }, { type: 'open' }, { type: 'nope' }, null];
    for (const msg of bad) expect(() => connKind.toEvent!(msg, { ask: false }), JSON.stringify(msg)).toThrow(/conn|push|kick|open/);
  });
});

describe('session machine', () => {
  const create = { type: 'create', secret: 'sec1', conn: c1, graceMs: 5000, checkMs: 7000, data: { note: 'n' } };

  it('a fresh session expires anything but create, and leaves memory', () => {
    const m = machineOf(sessionMachine, { id: 's1' });
    const { fx } = m.send({ type: 'resume', secret: 'x', next: 'y', conn: c2 });
    expect(fx).toEqual([{ type: 'reply', error: { code: 'SESSION_EXPIRED', message: 'no such session' } }, { type: 'passivate' }]);
    expect(m.send({ type: 'holds', identity: 'ann' }).fx[0]).toEqual({ type: 'reply', body: false });
  });

  it('resumes only with the current secret, replacing the older connection, and rotates the secret', () => {
    const m = machineOf(sessionMachine, { id: 's1' });
    m.send(create);
    m.send({ type: 'login', identity: 'ann' });
    expect(m.send({ type: 'resume', secret: 'wrong', next: 'n', conn: c2 }).fx[0]).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
    const { fx } = m.send({ type: 'resume', secret: 'sec1', next: 'sec2', conn: c2 });
    expect(fx).toEqual([
      { type: 'reply', body: { identity: 'ann', data: { note: 'n' }, prev: c1 } },
      { type: 'tell', to: connAddr(c1), msg: { type: 'kick', code: 4102, reason: 'session resumed elsewhere' } },
    ]);
    expect(m.state.context).toMatchObject({ conn: c2, secret: 'sec2', attached: true });
    expect(m.send({ type: 'resume', secret: 'sec1', next: 'x', conn: c1 }).fx[0]).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
  });

  it('ignores a detach from a connection it no longer has; detaches, waits the grace period, then ends', () => {
    const m = machineOf(sessionMachine, { id: 's1' });
    m.send(create);
    m.send({ type: 'login', identity: 'ann' });
    m.send({ type: 'detach', conn: c2 });
    expect(m.state.value).toBe('attached');
    const { timers } = m.send({ type: 'detach', conn: c1 });
    expect(m.state.value).toBe('detached');
    expect(timers).toEqual(['xstate.after.grace.session.detached']);
    const ending = m.send({ type: 'xstate.after.grace.session.detached' });
    expect(ending.fx).toEqual([
      {
        type: 'ask',
        to: { kind: 'gw', id: 's1', node: 'any' },
        msg: { type: 'session-end', session: 's1', identity: 'ann', conn: c1, data: { note: 'n' } },
        then: 'hooked',
        timeoutMs: 10_000,
      },
    ]);
    // No gateway answered: retry later, still holding the identity meanwhile.
    m.send({ type: 'hooked', ok: false, error: { code: 'NO_RESPONDERS', message: '' } });
    expect(m.state.value).toBe('retrying');
    expect(m.send({ type: 'holds', identity: 'ann' }).fx[0]).toEqual({ type: 'reply', body: true });
    expect(m.send({ type: 'xstate.after.retry.session.retrying' }).fx[0]).toMatchObject({ type: 'ask', then: 'hooked' });
    const done = m.send({ type: 'hooked', ok: true, body: true });
    expect(done.fx).toEqual([
      { type: 'reply', body: { ended: true } },
      { type: 'tell', to: { kind: 'identity', id: 'ann' }, msg: { type: 'release', session: 's1' } },
      { type: 'passivate', forget: true },
    ]);
    expect(m.state.status).toBe('done');
  });

  it('probes its connection and detaches when the gateway is gone (no ghost after a kill -9)', () => {
    const m = machineOf(sessionMachine, { id: 's1' });
    expect(m.send(create).timers).toEqual(['xstate.after.check.session.attached']);
    const probe = m.send({ type: 'xstate.after.check.session.attached' });
    expect(probe.fx).toEqual([{ type: 'ask', to: connAddr(c1), msg: { type: 'ping' }, then: 'probed' }]);
    m.send({ type: 'probed', ok: true, body: true });
    expect(m.state.value).toBe('attached');
    m.send({ type: 'xstate.after.check.session.attached' });
    m.send({ type: 'probed', ok: false, error: { code: 'TIMEOUT', message: '' } });
    expect(m.state.value).toBe('attached'); // a slow gateway is not a dead one
    m.send({ type: 'xstate.after.check.session.attached' });
    m.send({ type: 'probed', ok: false, error: { code: 'NO_RESPONDERS', message: '' } });
    expect(m.state.value).toBe('detached');
  });

  it('kicked by a newer login of its identity: closes its connection and ends', () => {
    const m = machineOf(sessionMachine, { id: 's1' });
    m.send(create);
    m.send({ type: 'login', identity: 'ann' });
    expect(m.send({ type: 'kicked', identity: 'bob' }).fx).toEqual([]);
    const { fx } = m.send({ type: 'kicked', identity: 'ann' });
    expect(fx[0]).toEqual({ type: 'tell', to: connAddr(c1), msg: { type: 'kick', code: 4102, reason: 'logged in elsewhere' } });
    expect(m.state.value).toBe('ending');
  });

  it('refuses malformed messages', () => {
    const bad = [{ type: 'create', secret: 's' }, { type: 'resume', secret: 's', next: 'n', conn: { gw: 1 } }, { type: 'set' }, { type: 'x' }];
    for (const msg of bad) expect(() => sessionKind.toEvent!(msg, { ask: true }), JSON.stringify(msg)).toThrow(/session/);
  });
});

describe('identity machine', () => {
  it('grants a free identity and re-grants it to its holder', () => {
    const m = machineOf(identityMachine, { id: 'ann' });
    expect(m.send({ type: 'claim', session: 's1', mode: 'refuse' }).fx).toEqual([{ type: 'reply', body: { ok: true } }]);
    expect(m.send({ type: 'claim', session: 's1', mode: 'refuse' }).fx).toEqual([{ type: 'reply', body: { ok: true } }]);
  });

  it('refuse mode: asks the holder, refuses while it holds, takes over from a session that is gone', () => {
    const m = machineOf(identityMachine, { id: 'ann' });
    m.send({ type: 'claim', session: 's1', mode: 'refuse' });
    const ask = m.send({ type: 'claim', session: 's2', mode: 'refuse' });
    expect(ask.fx).toEqual([{ type: 'ask', to: { kind: 'session', id: 's1' }, msg: { type: 'holds', identity: 'ann' }, then: 'checked' }]);
    expect(m.send({ type: 'checked', ok: true, body: true }).fx[0]).toMatchObject({ error: { code: 'ALREADY_LOGGED_IN' } });
    expect(m.state.context.session).toBe('s1');
    m.send({ type: 'claim', session: 's2', mode: 'refuse' });
    expect(m.send({ type: 'checked', ok: false, error: { code: 'TIMEOUT', message: '' } }).fx[0]).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    m.send({ type: 'claim', session: 's2', mode: 'refuse' });
    expect(m.send({ type: 'checked', ok: true, body: false }).fx).toEqual([{ type: 'reply', body: { ok: true } }]);
    expect(m.state.context.session).toBe('s2');
  });

  it('kick mode: the newcomer wins and the old session is told', () => {
    const m = machineOf(identityMachine, { id: 'ann' });
    m.send({ type: 'claim', session: 's1', mode: 'kick' });
    expect(m.send({ type: 'claim', session: 's2', mode: 'kick' }).fx).toEqual([
      { type: 'tell', to: { kind: 'session', id: 's1' }, msg: { type: 'kicked', identity: 'ann' } },
      { type: 'reply', body: { ok: true } },
    ]);
    // The old session's late release changes nothing; the holder's frees and forgets the identity.
    expect(m.send({ type: 'release', session: 's1' }).fx).toEqual([{ type: 'reply', body: false }]);
    expect(m.send({ type: 'release', session: 's2' }).fx).toEqual([{ type: 'reply', body: true }, { type: 'passivate', forget: true }]);
    expect(m.state.value).toBe('free');
  });

  it('refuses malformed messages', () => {
    for (const msg of [{ type: 'claim', session: 's' }, { type: 'release' }, { type: 'grab' }]) {
      expect(() => identityKind.toEvent!(msg, { ask: true })).toThrow(/claim|release|identity/);
    }
  });
});
