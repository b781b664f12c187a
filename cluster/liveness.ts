/**
 * Liveness over core NATS: every node publishes a heartbeat on `sys.hb.<node>` every `heartbeatMs` and listens to
 * everyone's (its own included). A node is alive while it was heard within `deadAfterMs`, on the listener's own
 * clock. Nothing here touches JetStream, so a stream's leader election (4–8 s of failed KV writes, watchers silent for
 * 6–13 s; docs/INVARIANTS.md) cannot make anyone look dead. Before, membership was a KV record with a TTL, and killing
 * the nats-server leading that one stream let every node's record lapse at once.
 *
 * Fencing. A node serves its shards only while it has heard its own heartbeat sent less than `fenceAfterMs` ago: that
 * heartbeat went through its NATS server and back, so its connection and server still carry its traffic. The window
 * counts from the heartbeat's send time, not its arrival, so a late echo never stretches it. Others take its shards
 * over only after not hearing it for `deadAfterMs` ≥ `fenceAfterMs` + 2 heartbeats, so an owner cut off from its
 * server has stopped before anyone may start (docs/ARCHITECTURE.md, "Cluster").
 *
 * Isolation. A node can hear itself and nobody else: its NATS server lost its routes to the others (cut off from the
 * NATS cluster) while its clients still reach it. Its own beats come back, so the rule above keeps it serving, while
 * the others stop hearing it and take its shards over. So a node that hears no other node for `fenceAfterMs`, while
 * others were alive in its view, lapses too (`isolated`); and once it has heard nobody else for `isolateAfterMs` it
 * asks for its connections to move to another server (`onIsolated`): when that works within the fence, the others hear
 * it again before declaring it dead and nothing changes hands. Silence of the others is measured up to the arrival of
 * our own latest beat, so a busy event loop (beats queued unread) does not count as isolation. When every other node
 * really died at once the survivor lapses as well, and serves again after proving, by a write to the replicated store,
 * that it is on the quorum side (cluster.ts). A group of two or more nodes on a cut-off server still hears itself and is
 * not fenced by this rule (docs/INVARIANTS.md, "Failover").
 *
 * A lapse (the window ran out: cut off, a long stall, or SIGSTOP then SIGCONT) is sticky: `serving()` stays false
 * until the owner of this object (the cluster) has re-read its leases and calls `recovered()`. It is noticed lazily,
 * by the first `serving()` call after it, so a woken process refuses work before any timer or socket callback can
 * activate an actor; and by the heartbeat loop, whose missed ticks show a clock jump.
 */
import type { Logger } from 'pino';
import type { Bus, Subscription } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { decodeId, subjects } from '../bus/subjects.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import type { NodeRecord } from './records.js';

export interface LivenessOptions {
  heartbeatMs: number;
  deadAfterMs: number;
  fenceAfterMs: number;
  /** No other node heard for this long while our own beats come back: ask to move to another server. */
  isolateAfterMs?: number;
  /**
   * Lapse when isolated (default true). With a single NATS server a node cannot be on a cut-off server; hearing nobody
   * else then means the others died or are slow, and fencing the survivor would only cost its actors.
   */
  fenceWhenIsolated?: boolean;
}

/** What travels on `sys.hb.<node>`. */
interface Beat {
  /** The node's record (roles, capacity, draining, load). */
  r: NodeRecord;
  /** Sequence number of this node incarnation's beats. */
  q: number;
  /** The node is leaving (stop, drain done): drop it now rather than after deadAfterMs. */
  bye?: true;
}

interface Heard {
  record: NodeRecord;
  at: number;
}

/** Own beats remembered by sequence until they come back (or are too old to matter). */
const SENT_KEPT = 64;

export class Liveness {
  private readonly heard = new Map<string, Heard>();
  private readonly sent = new Map<number, number>();
  private seq = 0;
  private sub?: Subscription;
  private timer?: TimerHandle;
  private lastTickAt: number;
  /** Own beat sent at this time came back: serve until `confirmedSentAt + fenceAfterMs`. */
  private confirmedSentAt = -Infinity;
  /** Latest clock reading seen: a reading below it is a backward step, treated as a lapse. */
  private latest: number;
  private lapsedAt?: number;
  /** The confirmation the lapse ran out from (send time of the last own beat heard before it). */
  confirmedBeforeLapse = -Infinity;
  private stopped = false;
  private firstEcho?: () => void;
  private listeningSince: number;
  /** When our own latest beat arrived back (this clock): the reference others' silence is measured against. */
  private selfHeardAt = -Infinity;
  /** When another node's beat last arrived (this clock). */
  private othersHeardAt = -Infinity;
  /** Others are in the view (heard within deadAfterMs, not said goodbye): hearing none of them is isolation. */
  private othersKnown = false;
  /** The isolation signal was given for the current silence (once per episode). */
  private isolationSignalled = false;
  /** Fires when the fence runs out, so the lapse is noticed at the fence, not at the next message or tick. */
  private fenceTimer?: TimerHandle;
  /**
   * The last moment this node served before its current lapse (this clock): the serving check refuses from the end of
   * the last confirmed window on, even before the lapse is noticed (a SIGSTOPped process notices it only when continued).
   */
  get servedUntil(): number | undefined {
    if (this.lapsedAt === undefined) return undefined;
    return Math.min(this.lapsedAt, this.confirmedBeforeLapse + this.o.fenceAfterMs);
  }
  /** Why the current (or last) lapse happened: an isolation lapse needs a store write before serving again. */
  lapseCause?: 'own-heartbeat' | 'isolated' | 'stall';
  /** Lapses so far (status; tests assert on it). */
  lapses = 0;
  /** Called once per lapse, when it is noticed. */
  onLapse?: () => void;
  /** Called once per isolation episode: this node hears itself and nobody else (its server may be cut off). */
  onIsolated?: () => void;
  /** Called when a node appears or is declared dead (the leader balances at once instead of at its next round). */
  onChange?: () => void;

  constructor(
    private readonly bus: Bus,
    private readonly self: () => NodeRecord,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: LivenessOptions,
  ) {
    this.lastTickAt = this.latest = this.listeningSince = clock.now();
  }

  get id(): string {
    return this.self().id;
  }

  /**
   * Subscribes, flushes (the subscription is known to our server before the first beat), starts beating and resolves
   * once this node has heard itself: only then can it serve anything.
   */
  async start(): Promise<void> {
    const heard = new Promise<void>((r) => (this.firstEcho = r));
    this.sub = this.bus.subscribe(subjects.sysAll('hb'), (m) => this.onBeat(decodeId(m.subject.slice(m.subject.lastIndexOf('.') + 1)), m.data));
    await this.bus.flush();
    this.lastTickAt = this.listeningSince = this.clock.now();
    this.beat();
    const loop = () => {
      if (this.stopped) return;
      this.tick();
      this.timer = this.clock.setTimeout(loop, this.o.heartbeatMs);
    };
    this.timer = this.clock.setTimeout(loop, this.o.heartbeatMs);
    await heard;
  }

  /** True while this node may process messages for the shards it holds. Cheap: called per message. */
  serving(): boolean {
    if (this.lapsedAt !== undefined) return false;
    const now = this.clock.now();
    if (now < this.latest || now - this.confirmedSentAt >= this.o.fenceAfterMs) {
      this.lapse(now, now < this.latest ? 'the clock went backwards' : 'own heartbeat not heard in time', 'own-heartbeat');
      return false;
    }
    if (this.othersKnown && this.o.fenceWhenIsolated !== false && now - this.othersHeardAt >= this.o.fenceAfterMs) {
      this.lapse(now, 'no other node heard (this node hears only itself: its NATS server may be cut off)', 'isolated');
      return false;
    }
    this.latest = now;
    return true;
  }

  /** Waiting out a lapse: true from the moment it is noticed until `recovered()`. */
  get lapsed(): boolean {
    return this.lapsedAt !== undefined;
  }

  /** Others are in the view and none was heard within fenceAfterMs (see "Isolation" above). */
  get isolated(): boolean {
    return this.othersKnown && this.o.fenceWhenIsolated !== false && this.clock.now() - this.othersHeardAt >= this.o.fenceAfterMs;
  }

  /** Heard ourselves since the lapse (our server carries our traffic again): the cluster may re-check its leases. */
  get confirmed(): boolean {
    const now = this.clock.now();
    return now >= this.latest && now - this.confirmedSentAt < this.o.fenceAfterMs;
  }

  /** The send time of the newest own beat heard back. */
  get confirmedAt(): number {
    return this.confirmedSentAt;
  }

  /** The cluster re-read its leases after a lapse: serve again. */
  recovered(): void {
    if (this.lapsedAt === undefined) return;
    this.log.warn({ lapsedForMs: this.clock.now() - this.lapsedAt }, 'serving again after re-reading leases');
    this.lapsedAt = undefined;
    this.listeningSince = this.clock.now();
  }

  /**
   * Serving, and listening long enough (deadAfterMs since start or the last lapse) that every live node has been
   * heard: only then may this node judge others dead (lead the balancer).
   */
  viewComplete(): boolean {
    return this.serving() && this.clock.now() - this.listeningSince >= this.o.deadAfterMs;
  }

  /**
   * Nodes heard within deadAfterMs (this one included once it heard itself), sorted by id. Silence is measured up to
   * the arrival of our own latest beat, not up to now: after this process stalled, others' beats may sit unread
   * behind ours, and a busy event loop must not make everyone else look dead.
   */
  alive(): NodeRecord[] {
    const ref = this.selfHeardAt;
    const out: NodeRecord[] = [];
    for (const h of this.heard.values()) if (ref - h.at < this.o.deadAfterMs) out.push(h.record);
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** When `id` was last heard (this node's clock), undefined if never or it said goodbye. */
  lastHeard(id: string): number | undefined {
    return this.heard.get(id)?.at;
  }

  /** Tells everyone this node leaves, and stops. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.fenceTimer !== undefined) this.clock.clearTimeout(this.fenceTimer);
    try {
      this.bus.publish(subjects.sys('hb', this.id), encode({ r: this.self(), q: ++this.seq, bye: true } satisfies Beat));
    } catch {
      // closing anyway
    }
    this.sub?.unsubscribe();
  }

  private tick(): void {
    const now = this.clock.now();
    // A tick far later than planned: this process did not run (SIGSTOP, a long GC or event-loop stall) or the clock
    // jumped. Either way others may have declared us dead meanwhile.
    const started = this.confirmedSentAt > -Infinity;
    const gap = now - this.lastTickAt;
    if (started && gap >= this.o.fenceAfterMs) this.lapse(now, `heartbeat loop did not run for ${gap} ms`, 'stall');
    this.lastTickAt = now;
    if (started) this.serving();
    this.beat();
    // After a late tick (this process stalled), others' beats may still sit unread in the socket: judge nobody dead
    // before reading them (and measure silence up to our own latest beat's arrival, see alive()).
    if (gap > 2 * this.o.heartbeatMs) return;
    this.judge();
  }

  /**
   * Declares dead every node silent for deadAfterMs up to our own latest beat's arrival. Run at each tick and when our
   * own beat arrives: that arrival is what moves the reference, so judging at the tick (which sends the next beat before
   * it arrives) had declared a kill -9'd node dead up to a heartbeat late (1.75-2.0 s after its last beat, not 1.5-1.75).
   */
  private judge(): void {
    const ref = this.selfHeardAt;
    let died = false;
    for (const [id, h] of this.heard) {
      if (ref - h.at >= this.o.deadAfterMs && id !== this.id) {
        this.heard.delete(id);
        this.log.warn({ node: id, silentForMs: ref - h.at }, 'node not heard: declared dead');
        died = true;
      }
    }
    this.othersKnown = this.heard.size > (this.heard.has(this.id) ? 1 : 0);
    if (died) this.onChange?.();
    this.checkIsolation();
  }

  /** Heard ourselves lately but nobody else for isolateAfterMs: signal once (the cluster moves to another server). */
  private checkIsolation(): void {
    if (!this.othersKnown || this.othersHeardAt >= this.selfHeardAt) {
      this.isolationSignalled = false;
      return;
    }
    const silentMs = this.selfHeardAt - this.othersHeardAt;
    if (this.isolationSignalled || silentMs < (this.o.isolateAfterMs ?? this.o.fenceAfterMs / 2)) return;
    this.isolationSignalled = true;
    this.log.warn({ silentMs }, 'this node hears itself but no other node: its NATS server may be cut off from the others');
    this.onIsolated?.();
  }

  private beat(): void {
    const q = ++this.seq;
    this.sent.set(q, this.clock.now());
    if (this.sent.size > SENT_KEPT) this.sent.delete(this.sent.keys().next().value!);
    this.bus.publish(subjects.sys('hb', this.id), encode({ r: this.self(), q } satisfies Beat));
  }

  private onBeat(from: string, data: Uint8Array): void {
    let b: Beat;
    try {
      b = decode<Beat>(data);
      if (!b || typeof b !== 'object' || typeof b.q !== 'number' || !b.r || b.r.id !== from) throw new Error('not a heartbeat');
    } catch {
      this.log.debug({ from }, 'unreadable heartbeat ignored');
      return;
    }
    const now = this.clock.now();
    if (from === this.id) {
      const sentAt = this.sent.get(b.q);
      if (sentAt !== undefined && sentAt > this.confirmedSentAt) {
        this.confirmedSentAt = sentAt;
        this.armFence(now);
      }
      this.selfHeardAt = now;
      // Only on a fresh echo (sent less than a heartbeat ago, the loop on time): an old beat read after a stall may
      // have others' beats queued behind it, unread yet; the tick judges those cases once the backlog is read.
      const fresh = sentAt !== undefined && now - sentAt < this.o.heartbeatMs && now - this.lastTickAt <= 2 * this.o.heartbeatMs;
      if (fresh && this.lapsedAt === undefined) this.judge();
      this.checkIsolation();
      this.firstEcho?.();
      this.firstEcho = undefined;
      this.heard.set(from, { record: b.r, at: now });
      return;
    }
    if (b.bye) {
      if (this.heard.delete(from)) {
        this.othersKnown = this.heard.size > (this.heard.has(this.id) ? 1 : 0);
        this.onChange?.();
      }
      return;
    }
    const known = this.heard.has(from);
    this.heard.set(from, { record: b.r, at: now });
    this.othersHeardAt = now;
    this.othersKnown = true;
    if (!known) this.onChange?.();
  }

  /**
   * The fence is checked lazily (per message, per tick); this timer notices it when it runs out, so an idle node closes
   * its instances at its fence, a heartbeat before anyone may take over, not up to a tick later.
   */
  private armFence(now: number): void {
    if (this.stopped || this.lapsedAt !== undefined) return;
    if (this.fenceTimer !== undefined) this.clock.clearTimeout(this.fenceTimer);
    this.fenceTimer = this.clock.setTimeout(() => {
      this.fenceTimer = undefined;
      if (!this.stopped) this.serving();
    }, Math.max(1, this.confirmedSentAt + this.o.fenceAfterMs - now));
  }

  private lapse(now: number, why: string, cause: NonNullable<Liveness['lapseCause']>): void {
    if (this.lapsedAt !== undefined) return;
    this.lapsedAt = now;
    this.lapseCause = cause;
    this.confirmedBeforeLapse = this.confirmedSentAt;
    this.latest = Math.max(this.latest, now);
    this.lapses++;
    this.log.error({ why, lastConfirmedMsAgo: now - this.confirmedSentAt }, 'cannot confirm this node is heard: not serving its shards until its leases are re-read');
    this.onLapse?.();
  }
}
