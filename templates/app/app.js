// @ts-check
// A gatehouse app: one actor kind and one route. `npm start` runs it on a node (gatehouse start --app ./app.js);
// `npm test` starts a node in the test process and calls the route as a client would. docs/APPS.md in the gatehouse
// checkout explains kinds, machines, effects, persistence and routes.
import { assign, badMessage, badRequest, defineKind, emit, setup } from './gatehouse.js';

/**
 * The kind's behaviour: an xstate machine. Each actor `greeter/<name>` has its own context; a message becomes an
 * event (toEvent below), the machine runs one turn, and what it emits are effects the runtime carries out after the
 * turn: here `reply`, the answer to whoever asked.
 */
const greeterMachine = setup({
  types: /** @type {{ context: { name: string; count: number }; input: { name: string }; events: { type: 'greet' } | { type: 'get' } }} */ ({}),
}).createMachine({
  id: 'greeter',
  context: ({ input }) => ({ name: input.name, count: 0 }),
  on: {
    greet: {
      actions: [
        assign({ count: ({ context }) => context.count + 1 }),
        emit(({ context }) => ({ type: 'reply', body: { greeting: `Hello, ${context.name}!`, count: context.count } })),
      ],
    },
    get: { actions: emit(({ context }) => ({ type: 'reply', body: { count: context.count } })) },
  },
});

export const greeterKind = defineKind({
  name: 'greeter',
  machine: greeterMachine,
  // Every turn that changes the count is written before the reply: a restart (npm start again) keeps the counts.
  persistence: 'snapshot',
  input: (id) => ({ name: id }),
  // Messages come from anywhere on the bus: check them here; a bad one is refused with BAD_MESSAGE and never runs.
  toEvent(msg) {
    const type = /** @type {{ type?: unknown }} */ (msg)?.type;
    if (type !== 'greet' && type !== 'get') throw badMessage('greeter accepts greet and get');
    return { type };
  },
});

/** The app: its kinds, and the routes clients may call through the gateway (WebSocket, TCP, Pomelo). */
export const app = {
  name: 'hello',
  kinds: [greeterKind],
  gateway: {
    routes: {
      /** hello.greet {name} → {greeting, count}: how many times `name` has been greeted, this one included. */
      'hello.greet': async (ctx, body) => {
        const name = /** @type {{ name?: unknown }} */ (body ?? {}).name;
        if (typeof name !== 'string' || !/^[\w-]{1,32}$/.test(name)) throw badRequest('name must be 1-32 letters, digits, _ or -');
        return ctx.actors.ask({ kind: 'greeter', id: name }, { type: 'greet' });
      },
    },
  },
};
