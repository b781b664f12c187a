/**
 * Chat rooms on the actor runtime, over the in-memory bus and a real nats-server: the chat routes (as the gateway
 * calls them) drive room actors, and the pushes are read where a gateway reads them (`gw.<node>.push`). Shows:
 * one bus message per gateway per push, duplicate names refused, private messages, switching rooms, leaving and
 * session end, rebinding after a reconnect, bad bus messages refused, empty rooms passivated, members kept across a
 * shard hand-over, and a room that lost its members (worker crash) healing itself.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { ConnRef } from '../../actors/runtime/effects.js';
import type { ActorHost, GatewayPush } from '../../actors/runtime/host.js';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { roomKind, ROOM_KIND } from '../../chat/room.js';
import { chatRoutes, chatSessionHooks } from '../../chat/routes.js';
import { pomeloChatRoutes } from '../../chat/pomelo-routes.js';
import type { RouteContext } from '../../node-api/gateway-app.js';
import { impls, type Env } from '../support/impls.js';
import { startHost, TEST_LIMITS } from '../support/hosts.js';
import { eventually } from '../../dev/wait.js';

interface Seen {
  conn: string;
  route: string;
  body: Record<string, unknown>;
}

for (const impl of impls) {
  describe(`chat rooms [${impl.name}]`, () => {
    let env: Env;
    const hosts: ActorHost[] = [];
    let prefix = 'chat0';
    let testNo = 0;
    beforeAll(async () => {
      env = await impl.setup();
    });
    afterAll(async () => {
      for (const h of hosts) await h.stop();
      await env?.teardown();
    });
    beforeEach(() => {
      prefix = `chat${++testNo}`;
    });

    async function host(o: { nodeId?: string; ownAllShards?: boolean } = {}) {
      const h = await startHost(env, { kinds: [roomKind], clock: new ManualClock(), prefix, ...o });
      hosts.push(h);
      return h;
    }

    /** Stands in for gateway nodes: records every push per connection and every bus message per gateway. */
    async function gateways(...names: string[]) {
      const bus = await env.connect(prefix);
      const seen: Seen[] = [];
      const busMessages: Record<string, number> = {};
      for (const gw of names) {
        busMessages[gw] = 0;
        bus.subscribe(subjects.gateway(gw, 'push'), (m) => {
          busMessages[gw]!++;
          const p = decode<GatewayPush>(m.data);
          for (const c of p.c) seen.push({ conn: `${gw}/${c}`, route: p.r, body: p.b as Record<string, unknown> });
        });
      }
      await bus.flush();
      const of = (conn: string, route?: string) => seen.filter((s) => s.conn === conn && (route === undefined || s.route === route)).map((s) => s.body);
      return { seen, busMessages, of };
    }

    /** A session as the gateway gives it to routes: the real ActorClient, session data in a Map. */
    async function session(id: string, conn: ConnRef): Promise<RouteContext & { conn: ConnRef; data: Map<string, unknown> }> {
      const actors = new ActorClient(await env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
      const data = new Map<string, unknown>();
      const s = {
        conn,
        data,
        get session() {
          return { id, conn: s.conn };
        },
        actors,
        log: silentLogger,
        login: async () => undefined,
        logout: async () => undefined,
        get: <T,>(k: string) => data.get(k) as T | undefined,
        set: async (k: string, v: unknown) => void data.set(k, v),
      };
      return s;
    }

    const call = (route: string, ctx: RouteContext, body?: unknown) => chatRoutes[route]!(ctx, body);
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

    it('enter, talk to everyone and to one, with one bus message per gateway per push', async () => {
      await host();
      const gw = await gateways('gw1', 'gw2');
      const ann = await session('s-ann', { gw: 'gw1', id: 'a' });
      const ben = await session('s-ben', { gw: 'gw1', id: 'b' });
      const cat = await session('s-cat', { gw: 'gw2', id: 'c' });
      expect(await call('chat.enter', ann, { name: 'ann', room: 'tavern' })).toEqual({ users: ['ann'], count: 1 });
      expect(await call('chat.enter', ben, { name: 'ben', room: 'tavern' })).toEqual({ users: ['ann', 'ben'], count: 2 });
      expect(await call('chat.enter', cat, { name: 'cat', room: 'tavern' })).toEqual({ users: ['ann', 'ben', 'cat'], count: 3 });
      await eventually(() => gw.of('gw1/a', 'onAdd').length === 2);
      expect(gw.of('gw1/a', 'onAdd')).toEqual([{ user: 'ben' }, { user: 'cat' }]);
      expect(gw.of('gw2/c', 'onAdd')).toEqual([]);

      const before = { ...gw.busMessages };
      await call('chat.send', ben, { content: 'hello all', target: '*' });
      const hello = { msg: 'hello all', from: 'ben', target: '*' };
      await eventually(() => ['gw1/a', 'gw1/b', 'gw2/c'].every((c) => gw.of(c, 'onChat').length === 1), { what: 'broadcast' });
      for (const c of ['gw1/a', 'gw1/b', 'gw2/c']) expect(gw.of(c, 'onChat')).toEqual([hello]);
      // Three members on two gateways: two bus messages, not three.
      expect(gw.busMessages.gw1! - before.gw1!).toBe(1);
      expect(gw.busMessages.gw2! - before.gw2!).toBe(1);

      await call('chat.send', cat, { content: 'psst', target: 'ann' });
      await eventually(() => gw.of('gw1/a', 'onChat').length === 2);
      expect(gw.of('gw1/a', 'onChat')[1]).toEqual({ msg: 'psst', from: 'cat', target: 'ann' });
      expect(await call('chat.members', ann)).toEqual({ room: 'tavern', name: 'ann', users: ['ann', 'ben', 'cat'], count: 3 });
      expect(await codeOf(call('chat.send', cat, { content: 'x', target: 'zed' }))).toBe('NO_SUCH_USER');
      expect(gw.of('gw1/b', 'onChat')).toEqual([hello]);
    });

    it('refuses a duplicate name in the room (NAME_TAKEN) but allows it in another room', async () => {
      await host();
      const a = await session('s1', { gw: 'gw1', id: '1' });
      const b = await session('s2', { gw: 'gw1', id: '2' });
      await call('chat.enter', a, { name: 'hunter', room: 'r1' });
      expect(await codeOf(call('chat.enter', b, { name: 'hunter', room: 'r1' }))).toBe('NAME_TAKEN');
      expect(b.data.get('chat')).toBeUndefined();
      expect(await call('chat.enter', b, { name: 'hunter', room: 'r2' })).toEqual({ users: ['hunter'], count: 1 });
    });

    it('refuses bad bodies with BAD_REQUEST and talk before entering with NOT_IN_ROOM', async () => {
      await host();
      const a = await session('s1', { gw: 'gw1', id: '1' });
      for (const body of [null, 'x', { name: '', room: 'r' }, { name: 'a', room: 7 }, { name: '*', room: 'r' }, { name: 'a', room: 'x'.repeat(65) }]) {
        expect(await codeOf(call('chat.enter', a, body))).toBe('BAD_REQUEST');
      }
      expect(await codeOf(call('chat.send', a, { content: 'x' }))).toBe('NOT_IN_ROOM');
      expect(await codeOf(call('chat.switch', a, { room: 'r' }))).toBe('NOT_IN_ROOM');
      expect(await codeOf(call('chat.members', a))).toBe('NOT_IN_ROOM');
      await call('chat.enter', a, { name: 'a', room: 'r' });
      expect(await codeOf(call('chat.send', a, { content: 'x'.repeat(2001) }))).toBe('BAD_REQUEST');
      expect(await codeOf(call('chat.send', a, { content: 'x', target: 5 }))).toBe('BAD_REQUEST');
    });

    it('answers random request bodies with a known error code or a result, never anything else (property)', async () => {
      await host();
      const s = await session('fuzz', { gw: 'gw1', id: 'f' });
      const known = new Set(['ok', 'BAD_REQUEST', 'NOT_IN_ROOM', 'NAME_TAKEN', 'NO_SUCH_USER']);
      const body = fc.oneof(
        fc.anything(),
        fc.record({ name: fc.oneof(fc.string(), fc.anything()), room: fc.oneof(fc.string({ maxLength: 70 }), fc.anything()) }, { requiredKeys: [] }),
        fc.record({ content: fc.oneof(fc.string(), fc.anything()), target: fc.oneof(fc.constantFrom('*', 'a'), fc.string(), fc.anything()) }, { requiredKeys: [] }),
      );
      const route = fc.constantFrom(...Object.keys(chatRoutes));
      await fc.assert(
        fc.asyncProperty(route, body, async (r, b) => {
          expect(known).toContain(await codeOf(call(r, s, b)));
        }),
        { numRuns: 150 },
      );
    });

    it('switches rooms on the same connection: old room hears a leave, new room an add; a refused switch stays put', async () => {
      await host();
      const gw = await gateways('gw1');
      const ann = await session('s-ann', { gw: 'gw1', id: 'a' });
      const ben = await session('s-ben', { gw: 'gw1', id: 'b' });
      const cat = await session('s-cat', { gw: 'gw1', id: 'c' });
      await call('chat.enter', ann, { name: 'ann', room: 'north' });
      await call('chat.enter', ben, { name: 'ben', room: 'north' });
      await call('chat.enter', cat, { name: 'cat', room: 'south' });
      expect(await call('chat.switch', ben, { room: 'south' })).toEqual({ users: ['cat', 'ben'], count: 2 });
      await eventually(() => gw.of('gw1/a', 'onLeave').length === 1 && gw.of('gw1/c', 'onAdd').length === 1);
      expect(gw.of('gw1/a', 'onLeave')).toEqual([{ user: 'ben' }]);
      expect(gw.of('gw1/c', 'onAdd')).toEqual([{ user: 'ben' }]);
      await call('chat.send', ben, { content: 'now south', target: '*' });
      await eventually(() => gw.of('gw1/c', 'onChat').length === 1);
      expect(gw.of('gw1/a', 'onChat')).toEqual([]);

      // ann cannot follow under a name south already has: she stays in north, still able to talk there.
      await call('chat.enter', ann, { name: 'cat', room: 'north' });
      expect(await codeOf(call('chat.switch', ann, { room: 'south' }))).toBe('NAME_TAKEN');
      expect(await call('chat.members', ann)).toEqual({ room: 'north', name: 'cat', users: ['cat'], count: 1 });
    });

    it('leave and session end tell the others; the last one out passivates the room', async () => {
      const h = await host();
      const gw = await gateways('gw1');
      const a = await session('s1', { gw: 'gw1', id: '1' });
      const b = await session('s2', { gw: 'gw1', id: '2' });
      await call('chat.enter', a, { name: 'a', room: 'hall' });
      await call('chat.enter', b, { name: 'b', room: 'hall' });
      expect(await call('chat.leave', a)).toEqual({ left: true });
      await eventually(() => gw.of('gw1/2', 'onLeave').length === 1);
      expect(await call('chat.leave', a)).toEqual({ left: false });
      expect(h.activeCount(ROOM_KIND)).toBe(1);
      await chatSessionHooks.onSessionEnd!({ session: b.session, actors: b.actors, log: silentLogger, get: b.get });
      await eventually(() => h.activeCount(ROOM_KIND) === 0, { what: 'empty room passivated' });
    });

    it('after a reconnect (session resume) pushes follow the session to its new connection', async () => {
      await host();
      const gw = await gateways('gw1', 'gw2');
      const a = await session('s1', { gw: 'gw1', id: '1' });
      const b = await session('s2', { gw: 'gw1', id: '2' });
      await call('chat.enter', a, { name: 'a', room: 'hall' });
      await call('chat.enter', b, { name: 'b', room: 'hall' });
      const previous = b.conn;
      b.conn = { gw: 'gw2', id: '9' };
      await chatSessionHooks.onSessionResume!(b, previous);
      await call('chat.send', a, { content: 'where are you', target: 'b' });
      await eventually(() => gw.of('gw2/9', 'onChat').length === 1);
      expect(gw.of('gw1/2', 'onChat')).toEqual([]);
    });

    it("speaks the Pomelo chat sample's routes: queryEntry, enter (duplicate → {code:500, error:true}), send", async () => {
      await host();
      const gw = await gateways('gw1');
      const pomelo = pomeloChatRoutes();
      const a = Object.assign(await session('p1', { gw: 'gw1', id: '1' }), {
        entry: async () => ({ node: 'n', host: '127.0.0.1', port: 3010, urls: {}, load: 0 }),
      });
      const b = await session('p2', { gw: 'gw1', id: '2' });
      expect(await pomelo['gate.gateHandler.queryEntry']!(a, { uid: 'ann' })).toEqual({ code: 200, host: '127.0.0.1', port: 3010 });
      expect(await pomelo['gate.gateHandler.queryEntry']!(a, {})).toEqual({ code: 500 });
      expect(await pomelo['connector.entryHandler.enter']!(a, { username: 'ann', rid: 'r1' })).toEqual({ users: ['ann'], count: 1 });
      expect(await pomelo['connector.entryHandler.enter']!(b, { username: 'ann', rid: 'r1' })).toEqual({ code: 500, error: true });
      expect(await pomelo['connector.entryHandler.enter']!(b, { username: 'bob', rid: 'r1' })).toEqual({ users: ['ann', 'bob'], count: 2 });
      // `from` and `rid` in the body are the client's claim: the room signs with the session's name.
      const r = await pomelo['chat.chatHandler.send']!(b, { rid: 'elsewhere', content: 'hi', from: 'ann', target: '*' });
      expect(r).toEqual({ route: 'chat.chatHandler.send' });
      await eventually(() => gw.of('gw1/1', 'onChat').length === 1);
      expect(gw.of('gw1/1', 'onChat')).toEqual([{ msg: 'hi', from: 'bob', target: '*' }]);
      await expect(pomelo['chat.chatHandler.send']!(b, { content: 'hi' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('refuses malformed bus messages with BAD_MESSAGE and keeps working', async () => {
      await host();
      const c = new ActorClient(await env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
      const to = { kind: ROOM_KIND, id: 'fuzzed' };
      for (const m of [42, { type: 'enter' }, { type: 'say', session: 's', content: {}, target: '*' }, { type: 'nope' }, { type: 'enter', session: 's', name: 'n', conn: [] }]) {
        await expect(c.ask(to, m)).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
      }
      c.tell(to, { type: 'garbage' });
      expect(await c.ask(to, { type: 'enter', session: 's', name: 'n', conn: { gw: 'g', id: 'c' } })).toEqual({ users: ['n'], count: 1 });
    });

    it('keeps members and message order when the room shard is handed to another node', async () => {
      const a = await host({ nodeId: 'ha' });
      const b = await host({ nodeId: 'hb', ownAllShards: false });
      const gw = await gateways('gw1');
      const x = await session('sx', { gw: 'gw1', id: 'x' });
      const y = await session('sy', { gw: 'gw1', id: 'y' });
      await call('chat.enter', x, { name: 'x', room: 'moving' });
      await call('chat.enter', y, { name: 'y', room: 'moving' });
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < 50; i++) sends.push(call('chat.send', x, { content: `m${i}`, target: '*' }));
      await Promise.all(sends);
      const shard = x.actors.shardOf('moving');
      const images = await a.releaseShard(ROOM_KIND, shard);
      b.ownShard(ROOM_KIND, shard);
      await b.bus.flush();
      for (const { id, image } of images) b.adopt(ROOM_KIND, id, image);
      for (let i = 50; i < 100; i++) sends.push(call('chat.send', x, { content: `m${i}`, target: '*' }));
      await Promise.all(sends);
      await eventually(() => gw.of('gw1/y', 'onChat').length === 100, { what: '100 messages at y' });
      expect(gw.of('gw1/y', 'onChat').map((m) => m.msg)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
      expect(b.activeCount(ROOM_KIND)).toBe(1);
      expect(a.activeCount(ROOM_KIND)).toBe(0);
    });

    it('retries a room message that found no owner (shard not placed yet) instead of failing it', async () => {
      const gw = await gateways('gw1');
      const a = await session('s1', { gw: 'gw1', id: '1' });
      // Record what each attempt of the route's ask ended with, to start the host only once one found no owner.
      const failedAsks: string[] = [];
      const realAsk = a.actors.ask.bind(a.actors);
      a.actors.ask = ((...args: Parameters<typeof realAsk>) =>
        realAsk(...args).catch((e: { code?: string }) => {
          failedAsks.push(e.code ?? 'ERROR');
          throw e;
        })) as typeof a.actors.ask;
      const entering = call('chat.enter', a, { name: 'early', room: 'unplaced' });
      await eventually(() => failedAsks.includes('NO_RESPONDERS'), { what: 'an attempt that found no owner' });
      await host();
      expect(await entering).toEqual({ users: ['early'], count: 1 });
      expect(failedAsks.every((c) => c === 'NO_RESPONDERS')).toBe(true);
      await call('chat.send', a, { content: 'made it', target: '*' });
      await eventually(() => gw.of('gw1/1', 'onChat').length === 1);
    });

    it('a room that lost its members (worker gone) seats a member again when it speaks', async () => {
      const first = await host({ nodeId: 'h1' });
      const gw = await gateways('gw1');
      const a = await session('s1', { gw: 'gw1', id: '1' });
      const b = await session('s2', { gw: 'gw1', id: '2' });
      await call('chat.enter', a, { name: 'a', room: 'fragile' });
      await call('chat.enter', b, { name: 'b', room: 'fragile' });
      await first.stop();
      await host({ nodeId: 'h2' });
      await call('chat.send', b, { content: 'anyone?', target: '*' });
      await eventually(() => gw.of('gw1/2', 'onChat').length === 1);
      expect(gw.of('gw1/2', 'onChat')).toEqual([{ msg: 'anyone?', from: 'b', target: '*' }]);
      expect(await call('chat.members', b)).toEqual({ room: 'fragile', name: 'b', users: ['b'], count: 1 });
    });
  });
}
