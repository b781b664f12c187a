/**
 * The cluster as a console sees it, kept from bus subscriptions and store watches while at least one console is open
 * on this node (nothing is subscribed otherwise): heartbeats (`sys.hb.*`: nodes, roles, capacity, draining; silence →
 * dead, a goodbye → left), console beats (`sys.console.*`: CPU, rates, actors per kind; beat.ts), the shard leases
 * (moves start as `moving` and land as a new owner) and the leader key. Changes go to the SSE hub as they happen;
 * the node list at most once a second.
 */
import type { Bus, Subscription } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import { decodeId, subjects } from '../../bus/subjects.js';
import type { KvWatcher, Store } from '../../bus/store.js';
import { BUCKETS, decodeRecord, LEADER_KEY, type Lease, type NodeRecord } from '../../cluster/records.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from 'pino';
import { announceConsole, BEAT_MS, CONSOLE_TOPIC, type ConsoleBeat } from './beat.js';

export type NodeState = 'up' | 'draining' | 'dead' | 'left';

export interface NodeView {
  id: string;
  state: NodeState;
  record: NodeRecord;
  beat?: ConsoleBeat;
  heardAt: number;
}

/** A lease as the page gets it: owner, state, move target. */
export type LeaseView = [owner: string, state: Lease['st'], to: string | null];

export interface ClusterView {
  nodes: NodeView[];
  leases: Record<string, LeaseView>;
  leader: string | null;
  shards: number;
}

export interface FeedSink {
  send(event: 'nodes' | 'lease' | 'leader', data: unknown): void;
}

/** Dead nodes stay on the map this long, so the operator sees them go. */
const DEAD_SHOWN_MS = 60_000;

export class ClusterFeed {
  private readonly nodes = new Map<string, NodeView>();
  private readonly leases = new Map<string, LeaseView>();
  private leader: string | null = null;
  private subs: Subscription[] = [];
  private watchers: KvWatcher[] = [];
  private timer?: NodeJS.Timeout;
  private stopAnnouncing?: () => void;
  private running = false;
  private dirty = false;

  constructor(
    private readonly o: { bus: Bus; store: Store; clock: Clock; log: Logger; deadAfterMs: number; shards: number; heartbeats: boolean },
    private readonly sink: FeedSink,
  ) {}

  view(): ClusterView {
    return { nodes: [...this.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), leases: Object.fromEntries(this.leases), leader: this.leader, shards: this.o.shards };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { bus, store } = this.o;
    this.subs.push(
      bus.subscribe(subjects.sysAll('hb'), (m) => {
        try {
          const beat = decode<{ r: NodeRecord; bye?: true }>(m.data);
          const id = decodeId(m.subject.slice(m.subject.lastIndexOf('.') + 1));
          const prev = this.nodes.get(id);
          const state: NodeState = beat.bye ? 'left' : beat.r.draining ? 'draining' : 'up';
          this.nodes.set(id, { id, state, record: beat.r, beat: prev?.beat, heardAt: this.o.clock.now() });
          // Heartbeats come 4 times a second per node: only a change of state is sent at once; the load figures
          // in the record go with the next console beat (once a second).
          if (!prev || prev.state !== state) this.pushNodes();
        } catch {
          /* not a heartbeat */
        }
      }),
      bus.subscribe(subjects.sysAll(CONSOLE_TOPIC), (m) => {
        try {
          const b = decode<ConsoleBeat>(m.data);
          const n = this.nodes.get(b.node);
          if (n) {
            n.beat = b;
            if (!this.o.heartbeats) n.heardAt = this.o.clock.now();
          } else if (!this.o.heartbeats) this.nodes.set(b.node, { id: b.node, state: 'up', record: embeddedRecord(b), beat: b, heardAt: this.o.clock.now() });
          this.dirty = true;
        } catch {
          /* malformed */
        }
      }),
    );
    this.stopAnnouncing = announceConsole(bus);
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    try {
      const leases = await store.bucket(BUCKETS.leases);
      this.watchers.push(
        await leases.watch(
          (c) => {
            if (c.op === 'delete') this.leases.delete(c.key);
            else {
              const l = decodeRecord<Lease>(c.value);
              this.leases.set(c.key, [l.o, l.st, l.to ?? null]);
            }
            this.sink.send('lease', { key: c.key, lease: this.leases.get(c.key) ?? null });
          },
          { initial: true },
        ),
      );
      const cluster = await store.bucket(BUCKETS.cluster, { ttlMs: this.o.deadAfterMs });
      this.watchers.push(
        await cluster.watch(
          (c) => {
            this.leader = c.op === 'delete' ? null : new TextDecoder().decode(c.value);
            this.sink.send('leader', this.leader);
          },
          { key: LEADER_KEY, initial: true },
        ),
      );
    } catch (err) {
      this.o.log.warn({ err }, 'console: shard leases not watched');
    }
  }

  private tick(): void {
    const now = this.o.clock.now();
    for (const [id, n] of this.nodes) {
      if (n.state === 'up' || n.state === 'draining') {
        // Without heartbeats (nodes on one in-memory bus), silence is measured on the console beats (1 s apart).
        if (now - n.heardAt > (this.o.heartbeats ? this.o.deadAfterMs : Math.max(this.o.deadAfterMs, 3 * BEAT_MS))) {
          n.state = 'dead';
          this.dirty = true;
        }
      } else if (now - n.heardAt > DEAD_SHOWN_MS) {
        this.nodes.delete(id);
        this.dirty = true;
      }
    }
    if (this.dirty) this.pushNodes();
  }

  private pushNodes(): void {
    this.dirty = false;
    this.sink.send('nodes', this.view().nodes);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const s of this.subs) s.unsubscribe();
    for (const w of this.watchers) w.stop();
    this.subs = [];
    this.watchers = [];
    this.stopAnnouncing?.();
    if (this.timer) clearInterval(this.timer);
    this.nodes.clear();
    this.leases.clear();
  }
}

/** An embedded node has no heartbeat: its record is made from its console beat. */
function embeddedRecord(b: ConsoleBeat): NodeRecord {
  return { id: b.node, roles: ['gateway', 'worker'], capacity: 1, draining: false, startedAt: 0, pid: 0, host: 'embedded', load: { actors: b.actors, shards: b.shards, msgsPerSec: b.msgsPerSec } };
}
