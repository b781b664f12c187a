/**
 * A tiny app for gateway tests, independent of chat and lobby: `echo`, `whoami`, `login`, session data, a `flood` of
 * pushes through a real actor (the `pusher` kind emits `push` effects, so pushes take the production path: effect →
 * `gw.<node>.push` → connection), and Pomelo routes. Loadable by the CLI (`--set node.apps=<this file>`) through its
 * `app` export.
 */
import { emit, enqueueActions, setup } from 'xstate';
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import { defineKind } from '../actors/runtime/kind.js';
import { GatehouseError } from '../common/errors.js';
import type { GatewayApp, RouteContext, RouteHandler, SessionEndContext } from '../node-api/gateway-app.js';
import type { App } from '../node-api/app.js';

type PusherEvent =
  | { type: 'flood'; to: ConnRef; n: number; size: number; route: string }
  | { type: 'push'; to: ConnRef[]; route: string; body: unknown };

/** Pushes on request: `flood` sends n pushes of `size` bytes of text to one connection. */
const pusherMachine = setup({ types: {} as { events: PusherEvent; emitted: Effect } }).createMachine({
  on: {
    flood: {
      actions: enqueueActions(({ event, enqueue }) => {
        const text = 'x'.repeat(event.size);
        for (let i = 0; i < event.n; i++) enqueue.emit({ type: 'push', to: event.to, route: event.route, body: { i, text } });
        enqueue.emit({ type: 'reply', body: event.n });
      }),
    },
    push: { actions: emit(({ event }) => ({ type: 'push', to: event.to, route: event.route, body: event.body })) },
  },
});

export const pusherKind = defineKind({ name: 'pusher', machine: pusherMachine, persistence: 'none', canPassivate: () => true });

export interface SessionEndRecord {
  session: string;
  identity?: string;
  data: Record<string, unknown>;
}

export interface EchoAppOptions {
  /** Called for every session end this node's gateway runs. */
  onEnd?: (e: SessionEndRecord) => void;
  onResume?: (session: string, previous: ConnRef) => void;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

const whoami = async (ctx: RouteContext) => ({
  session: ctx.session.id,
  identity: ctx.session.identity ?? null,
  node: ctx.session.conn.gw,
  conn: ctx.session.conn.id,
  note: ctx.get('note') ?? null,
});

export function createEchoApp(o: EchoAppOptions = {}): App {
  const routes: Record<string, RouteHandler> = {
    echo: async (_ctx, body) => body,
    whoami,
    login: async (ctx, body) => {
      await ctx.login(obj(body).name as string);
      return { identity: ctx.session.identity };
    },
    logout: async (ctx) => {
      await ctx.logout();
      return true;
    },
    remember: async (ctx, body) => {
      await ctx.set('note', obj(body).note);
      return true;
    },
    fail: async (_ctx, body) => {
      throw new GatehouseError(String(obj(body).code ?? 'ROOM_FULL'), 'asked to fail');
    },
    crash: async () => {
      throw new TypeError('secret internal detail');
    },
    hang: () => new Promise(() => undefined),
    flood: async (ctx, body) => {
      const b = obj(body);
      return ctx.actors.ask({ kind: 'pusher', id: ctx.session.conn.id }, { type: 'flood', to: ctx.session.conn, n: b.n ?? 1, size: b.size ?? 10, route: 'flood' });
    },
  };
  const gateway: GatewayApp = {
    routes,
    pomelo: {
      routes: {
        'echo.echoHandler.echo': async (_ctx, body) => ({ code: 200, echo: body }),
        'echo.echoHandler.whoami': whoami,
        'echo.echoHandler.push': async (ctx, body) => {
          ctx.actors.tell({ kind: 'pusher', id: 'p' }, { type: 'push', to: [ctx.session.conn], route: 'onEcho', body });
          return { code: 200 };
        },
      },
      dictionary: ['echo.echoHandler.echo', 'onEcho'],
    },
    async onSessionEnd(ctx: SessionEndContext) {
      o.onEnd?.({ session: ctx.session.id, identity: ctx.session.identity, data: { note: ctx.get('note') } });
    },
    async onSessionResume(ctx: RouteContext, previous: ConnRef) {
      o.onResume?.(ctx.session.id, previous);
    },
  };
  return { name: 'echo', kinds: [pusherKind], gateway };
}

/** For the CLI's app loader. */
export const app = createEchoApp();
