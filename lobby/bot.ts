/**
 * A lobby bot: one simulated hunter on a real client connection (the SDK), for demos, load and the end-to-end test.
 * It logs in, picks a server its Hunter Rank admits, a gate, then a city (joining an open one or creating one),
 * relays its position at game rate, chats now and then, forms and joins quest circles and departs on quests, and
 * wanders to another city (sometimes another server) every so often. Refusals (full, rank, no slot) are part of the
 * game: it just tries something else.
 *
 * Relay payloads carry the send time (ms since the epoch, sub-ms precision), so bots on the same machine measure
 * relay latency end to end: sender → gateway → city actor → gateway → receivers.
 */
import type { GatehouseClient } from '../client/client.js';

export interface BotOptions {
  index: number;
  /** First character(s) of the Capcom IDs (`B` → B00001…), so runs and populations do not collide. */
  idPrefix: string;
  /** Position relays per second while in a city (MH3: 2). */
  relayHz: number;
  /** Mean time between wanders to another city, ms. */
  wanderMs: number;
  /** Mean time between chat lines, ms. */
  chatMs: number;
  /** Gates per server (tree config). */
  gates: number;
  /** Called with each relay's latency (ms) as this bot receives it. */
  onLatency?(ms: number): void;
  random?: () => number;
}

export interface BotStats {
  loggedIn: boolean;
  loc: string[];
  relaysSent: number;
  relaysReceived: number;
  chats: number;
  moves: number;
  /** Times it entered a city (joined or created). */
  cityJoins: number;
  citiesCreated: number;
  circlesCreated: number;
  departures: number;
  errors: Record<string, number>;
}

const GOALS = ['Lagiacrus', 'Barroth', 'Rathalos', 'Qurupeco', 'Jhen Mohran', 'Deviljho', 'Alatreon', 'Ceadeus', 'Gobul', 'Agnaktor'];
const now = () => performance.timeOrigin + performance.now();

export function botCapcomId(prefix: string, index: number): string {
  const tail = index.toString(36).toUpperCase().padStart(6 - prefix.length, '0');
  return `${prefix}${tail}`.slice(0, 6);
}

interface CityRow {
  id: string;
  n: number;
  capacity: number;
  state: string;
  status: string;
  settings?: { hrMin: number; hrMax: number };
}

export class LobbyBot {
  readonly id: string;
  readonly hr: number;
  readonly stats: BotStats = { loggedIn: false, loc: [], relaysSent: 0, relaysReceived: 0, chats: 0, moves: 0, cityJoins: 0, citiesCreated: 0, circlesCreated: 0, departures: 0, errors: {} };
  private running = false;
  private relayTimer: ReturnType<typeof setInterval> | undefined;
  private brain: Promise<void> | undefined;
  private circle: { id: string; leader: boolean; departedAt?: number; createdAt: number } | null = null;
  private readonly rnd: () => number;
  private nextWander = 0;
  private nextChat = 0;
  private nextCircle = 0;
  /** Next move goes to another server (a warp on the same connection). */
  private hop = false;
  private servers: Array<{ id: string; type: string }> = [];
  private wake?: () => void;
  private settled = false;
  private thinking: Promise<void> | undefined;

  constructor(
    private readonly c: GatehouseClient,
    private readonly o: BotOptions,
  ) {
    this.rnd = o.random ?? Math.random;
    this.id = botCapcomId(o.idPrefix, o.index);
    // A third are rookies (HR ≤ 30), the rest spread up to HR 300: every server type gets players.
    this.hr = o.index % 3 === 0 ? 1 + Math.floor(this.rnd() * 30) : 31 + Math.floor(this.rnd() * 270);
    c.on('lobby.onRelay', (b) => {
      this.stats.relaysReceived++;
      const d = (b as { d?: unknown }).d;
      if (d instanceof Uint8Array && d.length >= 8) o.onLatency?.(now() - new DataView(d.buffer, d.byteOffset, 8).getFloat64(0, true));
    });
    c.on('lobby.onCircleRemoved', () => (this.circle = null));
    c.on('lobby.onCircle', (b) => {
      const v = b as { circle: string; state: string };
      if (this.circle?.id === v.circle && v.state === 'departed') this.circle.departedAt ??= now();
    });
  }

  /** Logs in and starts playing. */
  async start(): Promise<void> {
    await this.c.request('lobby.login', { capcomId: this.id, name: `Bot${this.o.index}`, hr: this.hr });
    this.stats.loggedIn = true;
    const list = await this.c.request<{ items: Array<{ id: string; type: string }> }>('lobby.servers', { limit: 100 });
    this.servers = list.items.filter((s) => (this.hr <= 30 ? s.type !== 'Expert' : s.type !== 'Rookie'));
    this.running = true;
    this.nextWander = now() + this.o.wanderMs * (0.5 + this.rnd());
    this.nextChat = now() + this.o.chatMs * this.rnd();
    this.brain = this.live();
    const every = 1000 / this.o.relayHz;
    // Start relays at a random phase so a crowd of bots does not tick in lockstep.
    setTimeout(() => {
      if (this.running) this.relayTimer = setInterval(() => this.relay(), every);
    }, this.rnd() * every);
  }

  /** Stays where it is from now on (no more moves or circles) but keeps relaying and chatting: a quiet lobby. */
  async settle(): Promise<void> {
    this.settled = true;
    await this.thinking?.catch(() => undefined);
  }

  /** Stops playing and logs out (the connection stays with the caller). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.relayTimer);
    this.wake?.();
    await this.brain?.catch(() => undefined);
    if (this.stats.loggedIn) await this.c.request('lobby.logout').catch(() => undefined);
    this.stats.loggedIn = false;
  }

  /** Whether position relays go out (a benchmark pauses them to measure other things on a quiet lobby). */
  relaying = true;

  private relay(): void {
    if (!this.relaying || this.stats.loc.length !== 3) return;
    const d = new Uint8Array(20);
    const v = new DataView(d.buffer);
    v.setFloat64(0, now(), true);
    v.setFloat32(8, this.rnd() * 1000, true);
    v.setFloat32(12, this.rnd() * 1000, true);
    v.setFloat32(16, this.rnd() * 6.28, true);
    this.stats.relaysSent++;
    // A notify: a position relay wants no answer (the city tells it on; a refused one is a relay not received).
    if (!this.c.notify('lobby.relay', { d })) this.fail({ code: 'NOT_OPEN' });
  }

  private fail(err: unknown): void {
    const code = (err as { code?: string }).code ?? 'ERROR';
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private async live(): Promise<void> {
    while (this.running) {
      try {
        await (this.thinking = this.think());
      } catch (err) {
        this.fail(err);
      }
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 1000 + this.rnd() * 2000);
      });
    }
  }

  private async go(layer: string): Promise<boolean> {
    try {
      const r = await this.c.request<{ loc: string[] }>('lobby.enter', { layer });
      this.stats.loc = r.loc;
      this.stats.moves++;
      if (r.loc.length === 3) this.stats.cityJoins++;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** One decision: get into a city if not in one, else chat, handle circles, or wander. */
  private async think(): Promise<void> {
    const loc = this.stats.loc;
    if (this.settled && loc.length < 3) return;
    if (loc.length < 2 || (this.hop && !this.settled)) {
      this.hop = false;
      // Servers round-robin, gates skewed to the first few: players gather where others are, as in MH3.
      const server = this.servers[(this.o.index + Math.floor(this.rnd() * 3)) % this.servers.length]!;
      const gate = 1 + Math.floor(this.o.gates * this.rnd() ** 3);
      await this.go(`${server.id}-g${String(gate).padStart(2, '0')}`);
      return;
    }
    if (loc.length === 2) return this.findCity(loc[1]!);
    const t = now();
    if (t > this.nextChat) {
      this.nextChat = t + this.o.chatMs * (0.5 + this.rnd());
      await this.c.request('lobby.chat', { text: `${GOALS[Math.floor(this.rnd() * GOALS.length)]} anyone?` });
      this.stats.chats++;
    }
    if (this.settled) return;
    if (t > this.nextWander && !this.circle) {
      this.nextWander = t + this.o.wanderMs * (0.5 + this.rnd());
      // Mostly a city nearby; now and then another server, on the same connection.
      if (this.rnd() < 0.15) this.hop = true;
      else await this.go(loc[1]!);
      return;
    }
    // Circles at a human pace: a look at the city's circles every ten seconds or so.
    if (t > this.nextCircle) {
      this.nextCircle = t + 5000 + this.rnd() * 10_000;
      await this.circleStep(t);
    }
  }

  private async findCity(gate: string): Promise<void> {
    const page = await this.c.request<{ cities: { items: CityRow[] } }>('lobby.cities', { gate, limit: 100 });
    const cities = page.cities.items;
    const open = cities.filter((c) => c.state === 'open' && c.n < c.capacity && (!c.settings || (this.hr >= c.settings.hrMin && this.hr <= c.settings.hrMax)));
    if (open.length && this.rnd() < 0.8) {
      await this.go(open[Math.floor(this.rnd() * open.length)]!.id);
      return;
    }
    // Nothing to join: sometimes create a city, otherwise look again shortly (someone else may have made one).
    const empty = cities.filter((c) => c.state === 'empty');
    if (!empty.length || (open.length === 0 && this.rnd() > 0.35)) return;
    const city = empty[Math.floor(this.rnd() * empty.length)]!.id;
    try {
      await this.c.request('lobby.city.reserve', { city });
      const r = await this.c.request<{ loc: string[] }>('lobby.city.open', { settings: { goal: GOALS[Math.floor(this.rnd() * GOALS.length)], seeking: 'anyone' } });
      this.stats.loc = r.loc;
      this.stats.citiesCreated++;
      this.stats.cityJoins++;
      this.stats.moves++;
    } catch (err) {
      this.fail(err);
      await this.c.request('lobby.city.cancel').catch(() => undefined);
    }
  }

  /** Quest circles: join or create one, get ready; a leader departs when the party is ready; later everyone leaves. */
  private async circleStep(t: number): Promise<void> {
    const q = this.circle;
    if (!q) {
      const circles = await this.c.request<Array<{ id: string; state: string; n: number; locked: boolean }>>('lobby.circles');
      const forming = circles.find((c) => c.state === 'forming' && !c.locked && c.n < 4);
      if (forming) {
        await this.c.request('lobby.circle.join', { circle: forming.id });
        this.circle = { id: forming.id, leader: false, createdAt: t };
        await this.c.request('lobby.circle.ready', { ready: true });
      } else if (this.rnd() < 0.2) {
        const r = await this.c.request<{ circle: string }>('lobby.circle.create', { goal: GOALS[Math.floor(this.rnd() * GOALS.length)] });
        this.circle = { id: r.circle, leader: true, createdAt: t };
        this.stats.circlesCreated++;
      }
      return;
    }
    if (q.departedAt !== undefined) {
      // Back from the quest after a while.
      if (t - q.departedAt > 15_000) {
        this.circle = null;
        await this.c.request('lobby.circle.leave');
      }
      return;
    }
    if (q.leader && t - q.createdAt > 8_000) {
      const r = await this.c.request<{ members: unknown[] }>('lobby.circle.depart');
      q.departedAt = t;
      if (r.members.length > 1) this.stats.departures++;
    }
  }
}
