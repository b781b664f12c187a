/**
 * Store writes the lobby does per player action (issue 16: at 600 bots, durable writes are most of what a bot costs
 * apart from its relays). A turn writes when its snapshot changed, so an action that changes nothing must not touch
 * the state: here, the player record's asks (a circle's ready and depart, a refused join or reservation) write only
 * what the asked actor changed, never the record itself, and the record still follows the answers that matter; a
 * move does not rewrite the session's data (the gateway keeps where its sessions stand; another gateway, or one the
 * session resumed on, asks the record).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActorHost } from '../../actors/runtime/host.js';
import { ManualClock } from '../../common/clock.js';
import { impls, type Env } from '../support/impls.js';
import { eventually } from '../../dev/wait.js';
import { cid, SMALL_TREE, startLobby, type LobbyRig, type Session } from '../support/lobby-runtime.js';
import { lobbyGateway } from '../../lobby/routes.js';

type Rec = Record<string, unknown>;

for (const impl of impls) {
  describe(`lobby writes [${impl.name}]`, () => {
    let env: Env;
    const hosts: ActorHost[] = [];
    let testNo = 0;
    let rig: LobbyRig;
    beforeAll(async () => {
      env = await impl.setup();
    });
    afterAll(async () => {
      for (const h of hosts) await h.stop();
      await env?.teardown();
    });
    beforeEach(async () => {
      rig = await startLobby(env, { prefix: `lobbyw${++testNo}`, clock: new ManualClock(), hosts });
    });

    async function hunter(n: number, at: string): Promise<Session> {
      const s = rig.session(n);
      await s.call('lobby.login', { capcomId: cid(n), name: `Hunter${n}`, hr: 40 });
      await s.call('lobby.enter', { layer: at });
      return s;
    }
    /** Store writes made by `fn`, counted once its answer is back (the record writes before it answers). */
    async function writesOf(fn: () => Promise<unknown>): Promise<number> {
      const before = rig.host.metrics.persisted;
      await fn().catch(() => undefined);
      return rig.host.metrics.persisted - before;
    }

    it("writes only the circle for ready and depart, nothing for refusals, and the record follows what changed", async () => {
      const lead = await hunter(1, 's01-g01');
      await lead.call('lobby.city.reserve', { city: 's01-g01-c01' });
      await lead.call('lobby.city.open', { settings: {} });
      const b = await hunter(2, 's01-g01-c01');
      const q = (await lead.call<{ circle: string }>('lobby.circle.create', { password: 'pw' })).circle;
      expect((await lead.call<Rec>('lobby.whoami')).circle).toBe(q);

      // A refused join changes nothing anywhere: no write (the record used to write a field set and cleared).
      expect(await writesOf(() => b.call('lobby.circle.join', { circle: q, password: 'no' }))).toBe(0);
      await expect(b.call('lobby.circle.join', { circle: q, password: 'no' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
      expect((await b.call<Rec>('lobby.whoami')).circle).toBeNull();
      // A join changes the circle and the record (and the city, told after: waited for, so it counts nowhere below).
      await b.call('lobby.circle.join', { circle: q, password: 'pw' });
      expect((await b.call<Rec>('lobby.whoami')).circle).toBe(q);
      await eventually(async () => ((await b.call('lobby.circles')) as unknown as Rec[])[0]?.n === 2, { timeoutMs: 5000, what: 'the city shows 2 in the circle' });
      // Ready changes the circle only (its count, state and leader are the same: the city keeps its state too).
      expect(await writesOf(() => b.call('lobby.circle.ready', { ready: true }))).toBe(1);
      // A refused depart (not the leader) writes nothing.
      expect(await writesOf(() => b.call('lobby.circle.depart'))).toBe(0);
      await expect(b.call('lobby.circle.depart')).rejects.toMatchObject({ code: 'NOT_LEADER' });
      // The leader's depart writes the circle (and the city, told after), not the leader's record.
      const departed = await lead.call<Rec>('lobby.circle.depart');
      expect(departed).toMatchObject({ state: 'departed' });
      // Leaving clears the record's circle.
      await lead.call('lobby.circle.leave');
      expect((await lead.call<Rec>('lobby.whoami')).circle).toBeNull();
    });

    it('writes nothing for a refused reservation, and keeps a granted one in the record', async () => {
      const a = await hunter(1, 's01-g01');
      const b = await hunter(2, 's01-g01');
      await a.call('lobby.city.reserve', { city: 's01-g01-c02' });
      expect((await a.call<Rec>('lobby.whoami')).reserved).toBe('s01-g01-c02');
      expect(await writesOf(() => b.call('lobby.city.reserve', { city: 's01-g01-c02' }))).toBe(0);
      await expect(b.call('lobby.city.reserve', { city: 's01-g01-c02' })).rejects.toMatchObject({ code: 'NOT_EMPTY' });
      expect((await b.call<Rec>('lobby.whoami')).reserved).toBeNull();
      await a.call('lobby.city.open', { settings: {} });
      expect((await a.call<Rec>('lobby.whoami')).loc).toEqual(['s01', 's01-g01', 's01-g01-c02']);
    });

    it("moves without writing the session's data; a gateway without the location, or resumed on, asks the record", async () => {
      const a = await hunter(1, 's01-g01');
      const b = await hunter(2, 's01-g02');
      const c = await hunter(3, 's01-g03');
      const relays = (s: Session) => s.of('lobby.onRelay').length;
      const set = vi.spyOn(a.ctx, 'set');
      await a.call('lobby.enter', { layer: 's01-g02' });
      expect(set).not.toHaveBeenCalled(); // was one session write per move
      await a.call('lobby.relay', { d: new Uint8Array([1]) });
      await eventually(() => relays(b) === 1, { timeoutMs: 5000, what: 'b hears the relay' });

      // Another gateway holding the same session (it resumed there) has no copy: it asks the record, and moves it on.
      const other = lobbyGateway(SMALL_TREE);
      await other.routes['lobby.relay']!(a.ctx, { d: new Uint8Array([2]) });
      await eventually(() => relays(b) === 2, { timeoutMs: 5000, what: 'b hears the relay sent through the other gateway' });
      await other.routes['lobby.enter']!(a.ctx, { layer: 's01-g03' });
      // Back on the first gateway: resuming forgets its old copy (s01-g02), so relays follow the record (s01-g03).
      await rig.gateway.onSessionResume!(a.ctx, a.conn);
      await a.call('lobby.relay', { d: new Uint8Array([3]) });
      await eventually(() => relays(c) === 1, { timeoutMs: 5000, what: 'c hears the relay after the resume' });
      expect(relays(b)).toBe(2);
      expect(set).not.toHaveBeenCalled();
    });
  });
}
