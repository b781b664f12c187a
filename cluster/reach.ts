/**
 * Is each of this node's NATS connections on a server that still reaches the others? A nats-server cut off from the
 * rest of its cluster keeps its clients connected: their publishes reach only the clients of that server, and nothing
 * published elsewhere reaches them, for as long as the cut lasts (nats-server notices a dead route only after its ping
 * window, minutes by default). A node has three connections (data, store, control: server/node.ts), each on a server
 * of its own choice; one on the cut-off server silently loses the actor traffic (data), fails every store write (store)
 * or the heartbeats (control).
 *
 * Every connection listens to the heartbeats (`sys.hb.*`). A connection that has not heard some node for
 * `suspectAfterMs` while another connection of this node heard it recently is suspect. A suspect is confirmed by a
 * flush (a PING to its server answered by PONG): a connection whose socket is merely backed up (a busy data connection)
 * receives the queued beats before the PONG, so a node still missing after the flush, that another connection heard
 * before the flush began, is not reaching this server. That connection is then moved to its next server (at most once
 * per `cooldownMs`). The cost when it works: the connection's in-flight messages (core NATS, at most once).
 */
import type { Logger } from 'pino';
import type { Subscription } from '../bus/bus.js';
import { decodeId, subjects } from '../bus/subjects.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import type { NodeConnection } from '../node-api/node.js';

export interface ReachOptions {
  /** How often connections are compared (the heartbeat). */
  checkEveryMs: number;
  /** Silence of one connection about a node another connection heard, before it is suspect. */
  suspectAfterMs: number;
  /** At most one move of a connection per this long. */
  cooldownMs: number;
  /** Flush answered within this long, or the check is dropped (a dead socket is the client's own ping's business). */
  flushTimeoutMs: number;
}

/** Nodes not heard for this long are forgotten (a long-lived cluster sees many node incarnations). */
const FORGET_MS = 60_000;

interface Watched {
  readonly conn: NodeConnection;
  readonly heard: Map<string, number>;
  sub?: Subscription;
  probing: boolean;
  movedAt: number;
}

export class ServerReach {
  private readonly watched: Watched[];
  private timer?: TimerHandle;
  private stopped = false;
  /** Connections moved so far (status; tests assert on it). */
  moves = 0;

  constructor(
    conns: readonly NodeConnection[],
    private readonly selfId: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: ReachOptions,
  ) {
    this.watched = conns.map((conn) => ({ conn, heard: new Map(), probing: false, movedAt: -Infinity }));
  }

  start(): void {
    if (this.watched.length < 2) return; // nothing to compare with
    for (const w of this.watched) {
      w.sub = w.conn.bus.subscribe(subjects.sysAll('hb'), (m) => {
        const id = decodeId(m.subject.slice(m.subject.lastIndexOf('.') + 1));
        if (id !== this.selfId) w.heard.set(id, this.clock.now());
      });
    }
    const loop = () => {
      if (this.stopped) return;
      this.check();
      this.timer = this.clock.setTimeout(loop, this.o.checkEveryMs);
    };
    this.timer = this.clock.setTimeout(loop, this.o.checkEveryMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const w of this.watched) w.sub?.unsubscribe();
  }

  /** Latest arrival of `id`'s beat on any connection but `except`. */
  private bestOther(id: string, except: Watched): number {
    let best = -Infinity;
    for (const w of this.watched) if (w !== except) best = Math.max(best, w.heard.get(id) ?? -Infinity);
    return best;
  }

  /** A node heard elsewhere at least suspectAfterMs more recently than on `w` (heard elsewhere after `since`). */
  private missing(w: Watched, since: number): string | undefined {
    const ids = new Set<string>();
    for (const o of this.watched) if (o !== w) for (const id of o.heard.keys()) ids.add(id);
    for (const id of ids) {
      const elsewhere = this.bestOther(id, w);
      const here = w.heard.get(id) ?? -Infinity;
      if (elsewhere >= since && elsewhere - here >= this.o.suspectAfterMs) return id;
    }
    return undefined;
  }

  private check(): void {
    const now = this.clock.now();
    for (const w of this.watched) {
      for (const [id, at] of w.heard) if (now - at > FORGET_MS) w.heard.delete(id);
      if (w.probing || now - w.movedAt < this.o.cooldownMs || w.conn.bus.isClosed) continue;
      if (this.missing(w, now - 2 * this.o.checkEveryMs) === undefined) continue;
      void this.confirm(w);
    }
  }

  private async confirm(w: Watched): Promise<void> {
    w.probing = true;
    const t0 = this.clock.now();
    try {
      let timer: TimerHandle | undefined;
      const answered = await Promise.race([
        w.conn.bus.flush().then(() => true),
        new Promise<boolean>((r) => (timer = this.clock.setTimeout(() => r(false), this.o.flushTimeoutMs))),
      ]).finally(() => timer !== undefined && this.clock.clearTimeout(timer));
      if (!answered || this.stopped) return;
      // Heard elsewhere within two checks before the flush began, still silent here after its PONG: not a backlog.
      const id = this.missing(w, t0 - 2 * this.o.checkEveryMs);
      if (id === undefined) return;
      const here = w.heard.get(id);
      w.movedAt = this.clock.now();
      this.moves++;
      this.log.warn(
        { connection: w.conn.role, node: id, silentHereMs: here === undefined ? null : Math.round(t0 - here) },
        'this connection does not hear a node the others hear: its NATS server seems cut off; moving it to the next server',
      );
      await w.conn.reconnect();
    } catch (err) {
      this.log.debug({ err, connection: w.conn.role }, 'reach check failed');
    } finally {
      w.probing = false;
    }
  }
}
