/**
 * One client connection as an actor, pinned to the gateway node that holds its socket (`conn.@<node>.<id>`), so any
 * actor can reach it: push to it, kick it, ask what session it carries. The socket itself (frames, heartbeat,
 * back-pressure) stays in the gateway's connection core: a bus hop per frame would cost more than the whole frame, so
 * this actor sees only lifecycle events, a handful per connection.
 *
 *   handshaking --open--> open --kick--> closing --closed--> done (final: the actor leaves memory)
 *        \----------------------\---------closed-----------/
 *
 * When the socket is gone the actor tells the session what to do: `detach` (the session waits its grace period for a
 * resume) or `end` (the client said goodbye, or was replaced). Anonymous sessions (`durable: false`) live only on
 * the gateway, which ends them itself.
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import type { ConnRef, Effect } from '../runtime/effects.js';

/** Push route the gateway treats as "close this connection" (routes a client may use never start with `$`). */
export const CLOSE_ROUTE = '$close';

export interface ConnInput {
  gw: string;
  id: string;
  proto: 'native' | 'pomelo';
  transport: 'ws' | 'tcp';
}

export interface ConnContext extends ConnInput {
  session?: string;
  identity?: string;
  /** Whether the session exists as a `session` actor (after login or set). */
  durable: boolean;
}

export type ConnEvent =
  /** Gateway: handshake accepted with this session. */
  | { type: 'open'; session: string; identity?: string; durable: boolean }
  /** Gateway: the session changed under the connection (login, logout, first `set`). */
  | { type: 'session'; session: string; identity?: string; durable: boolean }
  /** Any actor: push to this client (actors can also use the `push` effect with this connection's ConnRef). */
  | { type: 'push'; route: string; body: unknown }
  /** Any actor: close this client. `code` is a close code (default 4103 Kicked). */
  | { type: 'kick'; code?: number; reason?: string }
  /** Gateway: the transport is gone. `resumable` says whether the session waits for a resume. */
  | { type: 'closed'; resumable: boolean }
  /** Liveness probe (sessions use it to find connections whose gateway died); also `info` for tools. */
  | { type: 'ping' }
  | { type: 'info' };

const KICKED = 4103;

const self = (c: ConnContext): ConnRef => ({ gw: c.gw, id: c.id });

/** What the session learns when the socket is gone. */
function sessionNotice(c: ConnContext, resumable: boolean): Effect[] {
  if (!c.durable || c.session === undefined) return [];
  const msg = resumable ? { type: 'detach', conn: self(c) } : { type: 'end', conn: self(c) };
  return [{ type: 'tell', to: { kind: 'session', id: c.session }, msg }];
}

export const connectionMachine = setup({
  types: {} as { context: ConnContext; events: ConnEvent; input: ConnInput; emitted: Effect },
}).createMachine({
  id: 'conn',
  context: ({ input }) => ({ ...input, durable: false }),
  initial: 'handshaking',
  on: {
    ping: { actions: emit({ type: 'reply', body: true }) },
    info: {
      actions: emit(({ context: c }) => ({
        type: 'reply',
        body: { gw: c.gw, id: c.id, proto: c.proto, transport: c.transport, session: c.session, identity: c.identity },
      })),
    },
  },
  states: {
    handshaking: {
      on: {
        open: {
          target: 'open',
          actions: assign(({ event }) => ({ session: event.session, identity: event.identity, durable: event.durable })),
        },
        kick: { target: 'closing', actions: emit(({ context, event }) => closeEffect(context, event)) },
        closed: { target: 'done' },
      },
    },
    open: {
      on: {
        session: { actions: assign(({ event }) => ({ session: event.session, identity: event.identity, durable: event.durable })) },
        push: { actions: emit(({ context, event }) => ({ type: 'push', to: self(context), route: event.route, body: event.body })) },
        kick: { target: 'closing', actions: emit(({ context, event }) => closeEffect(context, event)) },
        closed: {
          target: 'done',
          actions: enqueueActions(({ context, event, enqueue }) => {
            for (const e of sessionNotice(context, event.resumable)) enqueue.emit(e);
          }),
        },
      },
    },
    closing: {
      on: {
        closed: {
          target: 'done',
          actions: enqueueActions(({ context, event, enqueue }) => {
            for (const e of sessionNotice(context, event.resumable)) enqueue.emit(e);
          }),
        },
      },
    },
    done: { type: 'final', entry: emit({ type: 'passivate' }) },
  },
});

function closeEffect(c: ConnContext, e: { code?: number; reason?: string }): Effect {
  return { type: 'push', to: self(c), route: CLOSE_ROUTE, body: { code: e.code ?? KICKED, reason: e.reason ?? 'kicked' } };
}
