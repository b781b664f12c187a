/**
 * The lobby on the actor runtime, over the in-memory bus and a real nats-server: the lobby routes (called as the
 * gateway calls them) drive the layer and player actors, pushes are read where a gateway reads them. Shows
 * roll-up counts in the list views, capacities and HR limits, city creation and reservation expiry on an injected
 * clock, leader hand-over, chat/whisper/tell/relays (relays write nothing), quest-circle rules, duplicate login,
 * friends with pending requests delivered at the next login, search, moving between servers on one connection,
 * and records and counts intact after the node restarts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActorHost } from '../../actors/runtime/host.js';
import { ManualClock } from '../../common/clock.js';
import { impls, type Env } from '../support/impls.js';
import { cid, SMALL_TREE, startLobby, type LobbyRig, type Session } from '../support/lobby-runtime.js';
import { eventually } from '../../dev/wait.js';

type Rec = Record<string, unknown>;

for (const impl of impls) {
  describe(`lobby [${impl.name}]`, () => {
    let env: Env;
    const hosts: ActorHost[] = [];
    let testNo = 0;
    let rig: LobbyRig;
    let clock: ManualClock;
    beforeAll(async () => {
      env = await impl.setup();
    });
    afterAll(async () => {
      for (const h of hosts) await h.stop();
      await env?.teardown();
    });
    beforeEach(async () => {
      clock = new ManualClock();
      rig = await startLobby(env, { prefix: `lobby${++testNo}`, clock, hosts });
    });

    async function hunter(n: number, o: { hr?: number; at?: string } = {}): Promise<Session> {
      const s = rig.session(n);
      await s.call('lobby.login', { capcomId: cid(n), name: `Hunter${n}`, hr: o.hr ?? 40 });
      if (o.at) await s.call('lobby.enter', { layer: o.at });
      return s;
    }
    const until = (what: string, fn: () => boolean | Promise<boolean>) => eventually(fn, { timeoutMs: 5000, what });
    const items = (r: Rec) => (r as { items: Rec[] }).items;

    it('rolls counts up into the list views: servers, gates of a server, cities of a gate', async () => {
      const a = await hunter(1, { at: 's01-g02' });
      await hunter(2, { at: 's01-g02' });
      await hunter(3, { at: 's01' });
      const servers = items(await a.call('lobby.servers'));
      expect(servers[0]).toMatchObject({ id: 's01', type: 'Open', n: 3, capacity: 6, status: 'JOINABLE' });
      expect(servers[1]).toMatchObject({ id: 's02', type: 'Rookie', n: 0, status: 'EMPTY' });
      expect(items(await a.call('lobby.servers', { type: 'Expert' })).map((s) => s.id)).toEqual(['s03']);
      await until('the server lists gate 2 with 2', async () => items((await a.call('lobby.gates', { server: 's01' })).gates as Rec)[1]?.n === 2);
      // A city opened in the gate shows in the gate's city list with its count, leader and settings.
      await a.call('lobby.city.reserve', { city: 's01-g02-c03' });
      await a.call('lobby.city.open', { settings: { goal: 'Barroth', hrMin: 1, hrMax: 999 } });
      await until('the gate lists city 3', async () => {
        const c = items((await a.call('lobby.cities', { gate: 's01-g02', offset: 2, limit: 1 })).cities as Rec)[0];
        return c?.n === 1 && c.leader === 'Hunter1' && c.status === 'JOINABLE';
      });
      expect(((await a.call('lobby.gates', { server: 's01' })).gates as Rec).total).toBe(3);
    });

    it('refuses a full gate, a full server and a Hunter Rank the server type excludes', async () => {
      await hunter(1, { at: 's01-g01' });
      await hunter(2, { at: 's01-g01' });
      await hunter(3, { at: 's01-g01' });
      await hunter(4, { at: 's01-g01' });
      const e = await hunter(5);
      await expect(e.call('lobby.enter', { layer: 's01-g01' })).rejects.toMatchObject({ code: 'FULL' });
      expect((await e.call<Rec>('lobby.whoami')).loc).toEqual([]); // the refused move left nothing behind
      await e.call('lobby.enter', { layer: 's01-g02' });
      await hunter(6, { at: 's01' });
      await expect((await hunter(9)).call('lobby.enter', { layer: 's01' })).rejects.toMatchObject({ code: 'FULL' });
      const rookie = await hunter(7, { hr: 31 });
      await expect(rookie.call('lobby.enter', { layer: 's02-g01' })).rejects.toMatchObject({ code: 'HR_LIMIT' });
      await expect(rookie.call('lobby.enter', { layer: 's03' })).resolves.toMatchObject({ loc: ['s03'] });
      const low = await hunter(8, { hr: 30 });
      await expect(low.call('lobby.enter', { layer: 's03' })).rejects.toMatchObject({ code: 'HR_LIMIT' });
    });

    it('creates a city (reserve → settings → open); an unfinished reservation expires after 40 s on the clock', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      const b = await hunter(2, { at: 's01-g01' });
      expect(await a.call('lobby.city.reserve', { city: 's01-g01-c01' })).toMatchObject({ city: 's01-g01-c01', expiresInMs: 40_000 });
      await expect(b.call('lobby.city.reserve', { city: 's01-g01-c01' })).rejects.toMatchObject({ code: 'NOT_EMPTY' });
      await expect(b.call('lobby.enter', { layer: 's01-g01-c01' })).rejects.toMatchObject({ code: 'NOT_OPEN' });
      const open = await a.call<{ loc: string[]; view: Rec }>('lobby.city.open', { settings: { hrMin: 20, hrMax: 60, goal: 'Lagiacrus', seeking: 'help' } });
      expect(open.loc).toEqual(['s01', 's01-g01', 's01-g01-c01']);
      expect(open.view).toMatchObject({ state: 'open', leaderId: cid(1), settings: { goal: 'Lagiacrus' } });
      await b.call('lobby.enter', { layer: 's01-g01-c01' });

      await b.call('lobby.leave');
      await b.call('lobby.city.reserve', { city: 's01-g01-c02' });
      clock.advance(39_000);
      await expect(b.call('lobby.city.reserve', { city: 's01-g01-c02' })).rejects.toMatchObject({ code: 'NOT_EMPTY' });
      clock.advance(1_000);
      await until('b hears the reservation expire', () => b.of('lobby.onReservationExpired').length === 1);
      expect(b.of('lobby.onReservationExpired')[0]).toEqual({ city: 's01-g01-c02' });
      await expect(b.call('lobby.city.open', { settings: {} })).rejects.toMatchObject({ code: 'NOT_RESERVED' });
      // Expired means empty: anyone may create it now.
      const c = await hunter(3, { at: 's01-g01' });
      await expect(c.call('lobby.city.reserve', { city: 's01-g01-c02' })).resolves.toMatchObject({ city: 's01-g01-c02' });
    });

    it('hands the city over when its leader leaves; joins and leaves are pushed to the city; an emptied city resets', async () => {
      const a = await hunter(1, { at: 's02-g01', hr: 11 });
      await a.call('lobby.city.reserve', { city: 's02-g01-c04' });
      await a.call('lobby.city.open', { settings: { goal: 'Qurupeco' } });
      const b = await hunter(2, { at: 's02-g01-c04', hr: 12 });
      const c = await hunter(3, { at: 's02-g01-c04', hr: 13 });
      await until('a hears b and c arrive', () => a.of('lobby.onJoin').length === 2);
      expect(a.of('lobby.onJoin').map((j) => j.id)).toEqual([cid(2), cid(3)]);
      await expect(b.call('lobby.city.settings', { settings: { goal: 'mine' } })).rejects.toMatchObject({ code: 'NOT_LEADER' });
      await a.call('lobby.leave');
      await until('b and c hear the new leader', () => b.of('lobby.onLeader').length === 1 && c.of('lobby.onLeader').length === 1);
      expect(b.of('lobby.onLeader')[0]).toMatchObject({ layer: 's02-g01-c04', leader: cid(2), name: 'Hunter2' });
      expect(c.of('lobby.onLeave')).toEqual([{ layer: 's02-g01-c04', id: cid(1) }]);
      await b.call('lobby.city.settings', { settings: { goal: 'Rathian', seeking: 'LS' } });
      await until('c sees the new settings', () => c.of('lobby.onCitySettings').length === 1);
      await b.call('lobby.leave');
      await c.call('lobby.leave');
      const view = await c.call<Rec>('lobby.layer', { id: 's02-g01-c04' });
      expect(view).toMatchObject({ state: 'empty', n: 0, leaderId: null, settings: { goal: '' } });
    });

    it('carries chat and whispers in a layer, tells across the lobby, and relays without writing state', async () => {
      const a = await hunter(1, { at: 's01-g03' });
      const b = await hunter(2, { at: 's01-g03' });
      const far = await hunter(3, { at: 's03-g01', hr: 99 });
      await a.call('lobby.chat', { text: 'hello gate' });
      await until('both hear the chat', () => a.of('lobby.onChat').length === 1 && b.of('lobby.onChat').length === 1);
      expect(b.of('lobby.onChat')[0]).toEqual({ layer: 's01-g03', from: cid(1), name: 'Hunter1', text: 'hello gate' });
      expect(far.of('lobby.onChat')).toEqual([]);
      await a.call('lobby.whisper', { to: cid(2), text: 'psst' });
      await expect(a.call('lobby.whisper', { to: cid(3), text: 'x' })).rejects.toMatchObject({ code: 'NOT_HERE' });
      await until('b hears the whisper', () => b.of('lobby.onWhisper').length === 1);
      await a.call('lobby.tell', { to: cid(3), text: 'come to s01' });
      await until('far hears the tell', () => far.of('lobby.onTell').length === 1);
      expect(far.of('lobby.onTell')[0]).toEqual({ from: cid(1), name: 'Hunter1', text: 'come to s01' });
      // A never-seen ID is no player: NOT_FOUND, and nothing is created for it (test/security/read-creation.test.ts).
      await expect(a.call('lobby.tell', { to: 'NOBODY', text: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

      const persisted = rig.host.metrics.persisted;
      const before = rig.pushMessages();
      for (let i = 0; i < 20; i++) await a.call('lobby.relay', { d: new Uint8Array([i, 1, 2, 3]) });
      await until('b got every relay', () => b.of('lobby.onRelay').length === 20);
      expect(b.of('lobby.onRelay').map((r) => (r.d as Uint8Array)[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(a.of('lobby.onRelay')).toEqual([]); // never back to the sender
      expect(rig.pushMessages() - before).toBe(20); // one bus message per relay for this gateway
      expect(rig.host.metrics.persisted).toBe(persisted);
    });

    it('broadcasts profile pieces to the layer and keeps them in the record', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      const b = await hunter(2, { at: 's01-g01' });
      await a.call('lobby.profile.write', { offset: 10, bytes: new Uint8Array([7, 8, 9]) });
      await until('b sees the piece', () => b.of('lobby.onProfile').length === 1);
      expect(b.of('lobby.onProfile')[0]).toMatchObject({ id: cid(1), offset: 10 });
      const p = await b.call<{ profile: Uint8Array }>('lobby.profile.get', { id: cid(1) });
      expect([...p.profile.slice(9, 14)]).toEqual([0, 7, 8, 9, 0]);
      expect(p.profile.length).toBe(256);
    });

    it('runs quest circles: no free slot, wrong password, full, ready, depart removes the unready, leader leaving breaks', async () => {
      const lead = await hunter(1, { at: 's01-g01' });
      await lead.call('lobby.city.reserve', { city: 's01-g01-c01' });
      await lead.call('lobby.city.open', { settings: {} });
      const [b, c, d] = [await hunter(2, { at: 's01-g01-c01' }), await hunter(3, { at: 's01-g01-c01' }), await hunter(4, { at: 's01-g01-c01' })];
      const q = (await lead.call<{ circle: string }>('lobby.circle.create', { password: 'pw', goal: 'Deviljho' })).circle;
      expect(q).toBe('s01-g01-c01-q1');
      await expect(b.call('lobby.circle.join', { circle: q, password: 'no' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
      await b.call('lobby.circle.join', { circle: q, password: 'pw' });
      await c.call('lobby.circle.join', { circle: q, password: 'pw' });
      await expect(d.call('lobby.circle.join', { circle: q, password: 'pw' })).rejects.toMatchObject({ code: 'FULL' });
      const q2 = (await d.call<{ circle: string }>('lobby.circle.create', {})).circle;
      expect(q2).toBe('s01-g01-c01-q2');
      await expect(lead.call('lobby.circle.create', {})).rejects.toMatchObject({ code: 'IN_CIRCLE' });
      await d.call('lobby.circle.leave');
      await until('the city shows one circle', async () => ((await d.call('lobby.circles')) as unknown as Rec[]).length === 1);

      await b.call('lobby.circle.ready', { ready: true });
      await expect(b.call('lobby.circle.depart')).rejects.toMatchObject({ code: 'NOT_LEADER' });
      const departed = await lead.call<Rec>('lobby.circle.depart');
      expect(departed).toMatchObject({ state: 'departed', members: [{ id: cid(1) }, { id: cid(2), ready: true }] });
      await until('c is told it was left behind', () => c.of('lobby.onCircleRemoved').length === 1);
      expect(c.of('lobby.onCircleRemoved')[0]).toEqual({ circle: q, reason: 'not ready' });
      await until("c's record forgets the circle", async () => (await c.call<Rec>('lobby.whoami')).circle === null);
      // After departure the leader may leave: b leads.
      await lead.call('lobby.circle.leave');
      await until('b leads now', () => b.of('lobby.onLeader').some((l) => l.circle === q && l.leader === cid(2)));

      // Before departure, the leader leaving breaks the circle (here: by leaving the city).
      const q3 = (await c.call<{ circle: string }>('lobby.circle.create', {})).circle;
      await d.call('lobby.circle.join', { circle: q3 });
      await c.call('lobby.leave');
      await until('d is told the circle broke', () => d.of('lobby.onCircleRemoved').some((r) => r.reason === 'leader left'));
      await until("d's record forgets it", async () => (await d.call<Rec>('lobby.whoami')).circle === null);
      await until('the slot is free again', async () => ((await d.call('lobby.circles')) as unknown as Rec[]).length === 1);
    });

    it('refuses a second login of a Capcom ID that is online (at the gateway and in the record itself)', async () => {
      await hunter(1, { at: 's01' });
      const twin = rig.session(99);
      await expect(twin.call('lobby.login', { capcomId: cid(1), name: 'Twin', hr: 10 })).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN' });
      // Straight to the record without the gateway's word: still refused, with a clear message.
      const direct = rig.client.ask({ kind: 'lobby-player', id: cid(1) }, { type: 'login', conn: twin.conn, session: 'other', name: 'Twin', hr: 10 });
      await expect(direct).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN', message: `Capcom ID ${cid(1)} is already online` });
      await expect(twin.call('lobby.login', { capcomId: 'bad id', name: 'x', hr: 1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('befriends both ways; a request to an offline player waits for its next login', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      const b = await hunter(2, { at: 's01' });
      await b.end();
      await a.call('lobby.friends.request', { to: cid(2) });
      const back = rig.session(12);
      const login = await back.call<Rec>('lobby.login', { capcomId: cid(2), name: 'Hunter2', hr: 40 });
      expect(login.pending).toEqual([{ id: cid(1), name: 'Hunter1' }]);
      await back.call('lobby.friends.accept', { from: cid(1) });
      await until('a is told', () => a.of('lobby.onFriendAdded').length === 1);
      const list = await a.call<{ friends: Rec[] }>('lobby.friends');
      expect(list.friends).toEqual([{ id: cid(2), name: 'Hunter2', online: true, loc: [] }]);
      await back.call('lobby.enter', { layer: 's03-g03' });
      expect((await a.call<{ friends: Rec[] }>('lobby.friends')).friends[0]).toMatchObject({ online: true, loc: ['s03', 's03-g03'] });
      await a.call('lobby.friends.delete', { id: cid(2) });
      await until('both lists are empty', async () => ((await back.call<{ friends: Rec[] }>('lobby.friends')).friends.length === 0));
      expect((await a.call<{ friends: Rec[] }>('lobby.friends')).friends).toEqual([]);
    });

    it('searches online players by Capcom ID or name across index shards, and cities by settings across a type', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      for (let n = 2; n <= 9; n++) await hunter(n, { at: n % 2 ? 's03-g01' : 's01-g02', hr: 50 });
      await (await hunter(10)).end(); // offline: never found
      const r = await a.call<{ hits: Rec[]; partial: boolean }>('lobby.search.players', { q: 'hunt0' });
      expect(r.hits.map((h) => h.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(cid));
      expect(r.partial).toBe(false);
      expect((await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'hunter7' })).hits).toEqual([{ id: cid(7), name: 'Hunter7', loc: ['s03', 's03-g01'] }]);
      expect((await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'T10' })).hits).toEqual([]);

      const e1 = await hunter(11, { at: 's03-g02', hr: 80 });
      await e1.call('lobby.city.reserve', { city: 's03-g02-c01' });
      await e1.call('lobby.city.open', { settings: { goal: 'Ceadeus', seeking: 'Gunners', hrMin: 31, hrMax: 999 } });
      const open = await hunter(12, { at: 's01-g03' });
      await open.call('lobby.city.reserve', { city: 's01-g03-c02' });
      await open.call('lobby.city.open', { settings: { goal: 'ceadeus' } });
      await until('the Expert index has the city', async () => ((await a.call<{ hits: Rec[] }>('lobby.search.cities', { type: 'Expert', goal: 'CEADEUS' })).hits.length === 1));
      const hit = (await a.call<{ hits: Rec[] }>('lobby.search.cities', { type: 'Expert', seeking: 'gunner', hr: 80 })).hits[0];
      expect(hit).toMatchObject({ city: 's03-g02-c01', n: 1, leader: 'Hunter11' });
      expect((await a.call<{ hits: Rec[] }>('lobby.search.cities', { type: 'Expert', hr: 20 })).hits).toEqual([]);
      expect((await a.call<{ hits: Rec[] }>('lobby.search.cities', { type: 'Open', goal: 'ceadeus' })).hits.map((h) => h.city)).toEqual(['s01-g03-c02']);
    });

    it('moves between servers on the same connection: the old layer hears the leave, the new one the join', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      const old = await hunter(2, { at: 's01-g01' });
      const neu = await hunter(3, { at: 's03-g03' });
      await a.call('lobby.enter', { layer: 's03-g03' });
      await until('both layers heard it', () => old.of('lobby.onLeave').length === 1 && neu.of('lobby.onJoin').length === 1);
      expect((await a.call<Rec>('lobby.whoami')).loc).toEqual(['s03', 's03-g03']);
      const servers = items(await a.call('lobby.servers'));
      expect(servers.map((s) => s.n)).toEqual([1, 0, 2]);
      await a.call('lobby.chat', { text: 'new here' });
      await until('the new gate hears a', () => neu.of('lobby.onChat').length === 1);
      expect(old.of('lobby.onChat')).toEqual([]);
    });

    it('keeps records and counts through a node restart; the search index heals within a refresh period', async () => {
      const a = await hunter(1, { at: 's01-g01' });
      const b = await hunter(2, { at: 's01-g01' });
      await a.call('lobby.friends.request', { to: cid(2) });
      await b.call('lobby.friends.accept', { from: cid(1) });
      await a.call('lobby.profile.write', { offset: 0, bytes: new Uint8Array([42]) });
      await until('the gate list shows 2', async () => items((await a.call('lobby.gates', { server: 's01' })).gates as Rec)[0]?.n === 2);
      await rig.restartHost();
      const me = await a.call<Rec>('lobby.whoami');
      expect(me).toMatchObject({ id: cid(1), online: true, loc: ['s01', 's01-g01'], friends: [{ id: cid(2), name: 'Hunter2' }] });
      expect([...(await a.call<{ profile: Uint8Array }>('lobby.profile.get')).profile.slice(0, 2)]).toEqual([42, 0]);
      expect(items(await a.call('lobby.servers'))[0]).toMatchObject({ n: 2 });
      expect(items((await a.call('lobby.gates', { server: 's01' })).gates as Rec)[0]).toMatchObject({ n: 2 });
      // The search index is memory-only: gone with the node, back once the gate's refresh audits its players.
      expect((await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'HUNT' })).hits).toEqual([]);
      // The gate wakes on the new node (its first message), with its persisted refresh timer; one period later its
      // audit has every player re-index itself. (Asked, not told: the clock below must move after the gate is back.)
      await a.call('lobby.layer');
      clock.advance(15_000);
      await until('both are found again', async () => (await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'HUNT' })).hits.length === 2);
      // And the chat still reaches both (the gate's roster survived).
      await a.call('lobby.chat', { text: 'still here' });
      await until('b heard the chat', () => b.of('lobby.onChat').length === 1);
    });

    it('changed lobby settings reach stored layers and records: after the restart they use the new capacities and shards', async () => {
      // Under SMALL_TREE's 4 shards HUNT01 and HUNT02 index on p3 and p2; under 1, on p0, the only shard a search asks.
      const a = await hunter(1, { at: 's01-g01' });
      await hunter(2, { at: 's01-g01' });
      await until('both are found', async () => (await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'HUNT' })).hits.length === 2);
      expect(items((await a.call('lobby.gates', { server: 's01' })).gates as Rec)[0]).toMatchObject({ capacity: 4 });
      await rig.restartHost({ ...SMALL_TREE, searchShards: 1, gateCapacity: 3 });
      // The server and the gate start from their stored state, which holds the capacity they were created with.
      expect(items((await a.call('lobby.gates', { server: 's01' })).gates as Rec)[0]).toMatchObject({ n: 2, capacity: 3 });
      expect(await a.call('lobby.layer')).toMatchObject({ layer: 's01-g01', capacity: 3 });
      clock.advance(15_000);
      // Each record, started from its stored state, re-indexes itself at the gate's audit; with the shard count it was
      // stored with, neither would land on p0.
      await until('both are found on the one shard', async () => (await a.call<{ hits: Rec[] }>('lobby.search.players', { q: 'HUNT' })).hits.length === 2);
      expect((await rig.client.ask<{ n: number }>({ kind: 'lobby-pindex', id: 'p0' }, { type: 'count' })).n).toBe(2);
    });

    it('cleans up when a session ends: the player leaves its layers and the count drops', async () => {
      const a = await hunter(1, { at: 's02-g02', hr: 5 });
      const b = await hunter(2, { at: 's02-g02', hr: 6 });
      await b.end();
      await until('a hears b leave', () => a.of('lobby.onLeave').length === 1);
      expect(items(await a.call('lobby.servers'))[1]).toMatchObject({ id: 's02', n: 1 });
      await b.end(); // twice: the gateway may run the hook again
      expect((await rig.client.ask<Rec>({ kind: 'lobby-player', id: cid(2) }, { type: 'whoami' })).online).toBe(false);
      // lobby.logout ends the session the same way (the connection stays open).
      await a.call('lobby.logout');
      await expect(a.call('lobby.whoami')).rejects.toMatchObject({ code: 'NOT_LOGGED_IN' });
      expect(items(await rig.session(9).call('lobby.servers'))[1]).toMatchObject({ id: 's02', n: 0 });
    });
  });
}
