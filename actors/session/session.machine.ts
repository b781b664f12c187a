/**
 * A client session that outlives its connections: identity, app data and the connection it is attached to. Sharded
 * and durable, so it lives on a worker, not on the gateway holding the socket: a client whose gateway died resumes
 * on any other gateway, and the grace timer fires even if no gateway remembers the session.
 *
 *   fresh --create--> attached --detach / probe finds the connection gone--> detached --grace--> ending --> done
 *                        ^  \--end / kicked-------------------------------------------------------/^
 *                        \---------------resume (ticket secret)-------------/
 *
 * - `attached` probes its connection every `checkMs`: a gateway killed with -9 never sends `detach`, and a session
 *   must not stay attached to a dead socket (a ghost player).
 * - `ending` asks any gateway (`gw.@any.<id>`) to run the apps' onSessionEnd hooks, retrying until one did, then
 *   releases the identity and forgets the stored state.
 * - The ticket secret is chosen by the gateway (machines are pure, no randomness here) and replaced on every resume,
 *   so a ticket works once.
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import type { ConnRef, Effect } from '../runtime/effects.js';

export const SESSION_EXPIRED = 'SESSION_EXPIRED';
/** Delay between attempts to have a gateway run the session-end hooks. */
export const END_RETRY_MS = 5000;
export const HOOK_TIMEOUT_MS = 10_000;
export const REPLACED = 4102;

export interface SessionContext {
  id: string;
  secret?: string;
  identity?: string;
  data: Record<string, unknown>;
  conn?: ConnRef;
  /** False while detached (or ending): `conn` is then the last connection, kept for the end hooks. */
  attached: boolean;
  graceMs: number;
  checkMs: number;
}

type AskResult = { ok: true; body: unknown } | { ok: false; error: { code: string; message: string } };

export type SessionEvent =
  | { type: 'create'; secret: string; conn: ConnRef; graceMs: number; checkMs: number; data?: Record<string, unknown> }
  | { type: 'resume'; secret: string; next: string; conn: ConnRef }
  | { type: 'detach'; conn: ConnRef }
  /** Ends the session (logout, goodbye close). With `conn`, only if the session is still attached to it. */
  | { type: 'end'; conn?: ConnRef }
  | { type: 'login'; identity: string }
  | { type: 'set'; key: string; value: unknown }
  /** From the identity actor: another session took this identity (duplicate login in `kick` mode). */
  | { type: 'kicked'; identity: string }
  /** From the identity actor: does this session (still) hold `identity`? */
  | { type: 'holds'; identity: string }
  | { type: 'info' }
  | ({ type: 'probed' } & AskResult)
  | ({ type: 'hooked' } & AskResult);

const sameConn = (a: ConnRef | undefined, b: ConnRef | undefined) => !!a && !!b && a.gw === b.gw && a.id === b.id;
const expired = (message: string): Effect => ({ type: 'reply', error: { code: SESSION_EXPIRED, message } });
const GONE = new Set(['NO_RESPONDERS', 'ACTOR_STOPPED']);

export const sessionMachine = setup({
  types: {} as { context: SessionContext; events: SessionEvent; input: { id: string }; emitted: Effect },
  delays: {
    grace: ({ context }) => context.graceMs,
    check: ({ context }) => context.checkMs,
    retry: END_RETRY_MS,
  },
  guards: {
    secretOk: ({ context, event }) => (event as { secret?: string }).secret === context.secret,
    fromConn: ({ context, event }) => sameConn(context.conn, (event as { conn?: ConnRef }).conn),
    endApplies: ({ context, event }) => {
      const conn = (event as { conn?: ConnRef }).conn;
      return conn === undefined || sameConn(context.conn, conn);
    },
    myIdentity: ({ context, event }) => context.identity === (event as { identity?: string }).identity,
    connGone: ({ event }) => {
      const e = event as AskResult;
      return !e.ok && GONE.has(e.error.code);
    },
    hookOk: ({ event }) => (event as AskResult).ok,
  },
  actions: {
    replyInfo: emit(({ context: c }) => ({
      type: 'reply',
      body: { id: c.id, identity: c.identity, conn: c.conn, data: c.data, attached: c.attached },
    })),
    replyHolds: emit(({ context, event }) => ({
      type: 'reply',
      body: context.identity !== undefined && context.identity === (event as { identity: string }).identity,
    })),
    replyOk: emit({ type: 'reply', body: true }),
    /** Answers a resume with what the new connection needs, then attaches to it; the old connection is replaced. */
    resume: enqueueActions(({ context, event, enqueue }) => {
      const e = event as Extract<SessionEvent, { type: 'resume' }>;
      const prev = context.conn;
      enqueue.emit({ type: 'reply', body: { identity: context.identity, data: context.data, prev } });
      if (prev && !sameConn(prev, e.conn)) {
        enqueue.emit({
          type: 'tell',
          to: { kind: 'conn', id: prev.id, node: prev.gw },
          msg: { type: 'kick', code: REPLACED, reason: 'session resumed elsewhere' },
        });
      }
      enqueue.assign({ conn: e.conn, secret: e.next, attached: true });
    }),
    kickConn: emit(({ context }) => ({
      type: 'tell',
      to: { kind: 'conn', id: context.conn!.id, node: context.conn!.gw },
      msg: { type: 'kick', code: REPLACED, reason: 'logged in elsewhere' },
    })),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({ id: input.id, data: {}, attached: false, graceMs: 30_000, checkMs: 30_000 }),
  initial: 'fresh',
  on: { info: { actions: 'replyInfo' } },
  states: {
    // Never created, or ended and forgotten: nothing to resume. The actor leaves memory at once.
    fresh: {
      on: {
        create: {
          target: 'attached',
          actions: [
            assign(({ event }) => ({
              secret: event.secret,
              conn: event.conn,
              attached: true,
              graceMs: event.graceMs,
              checkMs: event.checkMs,
              data: event.data ?? {},
            })),
            'replyOk',
          ],
        },
        holds: { actions: [emit({ type: 'reply', body: false }), emit({ type: 'passivate' })] },
        // Wildcards lose to exact event names only within a state, so `info` is repeated where '*' is used.
        info: { actions: ['replyInfo', emit({ type: 'passivate' })] },
        '*': { actions: [emit(expired('no such session')), emit({ type: 'passivate' })] },
      },
    },
    attached: {
      after: { check: 'probing' },
      on: {
        create: [{ guard: 'secretOk', actions: 'replyOk' }, { actions: emit(expired('session id in use')) }],
        resume: [{ guard: 'secretOk', target: 'attached', reenter: true, actions: 'resume' }, { actions: emit(expired('bad ticket')) }],
        detach: { guard: 'fromConn', target: 'detached' },
        end: { guard: 'endApplies', target: 'ending' },
        login: { actions: [assign(({ event }) => ({ identity: event.identity })), 'replyOk'] },
        set: { actions: [assign(({ context, event }) => ({ data: { ...context.data, [event.key]: event.value } })), 'replyOk'] },
        kicked: { guard: 'myIdentity', target: 'ending', actions: 'kickConn' },
        holds: { actions: 'replyHolds' },
      },
    },
    // Transient inside one turn: the `ask` result arrives before any other message.
    probing: {
      entry: emit(({ context }) => ({
        type: 'ask',
        to: { kind: 'conn', id: context.conn!.id, node: context.conn!.gw },
        msg: { type: 'ping' },
        then: 'probed',
      })),
      on: { probed: [{ guard: 'connGone', target: 'detached' }, { target: 'attached' }] },
    },
    detached: {
      entry: assign({ attached: false }),
      after: { grace: 'ending' },
      on: {
        resume: [{ guard: 'secretOk', target: 'attached', actions: 'resume' }, { actions: emit(expired('bad ticket')) }],
        end: { target: 'ending' },
        kicked: { guard: 'myIdentity', target: 'ending' },
        holds: { actions: 'replyHolds' },
        login: { actions: emit(expired('session is detached')) },
        set: { actions: emit(expired('session is detached')) },
        create: { actions: emit(expired('session id in use')) },
      },
    },
    ending: {
      entry: [
        assign({ attached: false }),
        emit(({ context: c }) => ({
          type: 'ask',
          to: { kind: 'gw', id: c.id, node: 'any' },
          msg: { type: 'session-end', session: c.id, identity: c.identity, conn: c.conn, data: c.data },
          then: 'hooked',
          timeoutMs: HOOK_TIMEOUT_MS,
        })),
      ],
      on: { hooked: [{ guard: 'hookOk', target: 'done' }, { target: 'retrying' }] },
    },
    retrying: {
      entry: emit({ type: 'reply', body: { ended: false, retrying: true } }),
      after: { retry: 'ending' },
      on: {
        holds: { actions: 'replyHolds' },
        end: { actions: 'replyOk' },
        info: { actions: 'replyInfo' },
        '*': { actions: emit(expired('session is ending')) },
      },
    },
    done: {
      type: 'final',
      entry: enqueueActions(({ context, enqueue }) => {
        enqueue.emit({ type: 'reply', body: { ended: true } });
        if (context.identity !== undefined) {
          enqueue.emit({ type: 'tell', to: { kind: 'identity', id: context.identity }, msg: { type: 'release', session: context.id } });
        }
        // Forget: the next message for this id activates a fresh (expired) session.
        enqueue.emit({ type: 'passivate', forget: true });
      }),
    },
  },
});
