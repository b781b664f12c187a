/**
 * What an actor cell needs from the node hosting it. Kept narrow so cells can be tested and moved between hosts.
 */
import type { Logger } from 'pino';
import type { BusMsg } from '../../bus/bus.js';
import type { Clock } from '../../common/clock.js';
import type { ActorClient } from './client.js';
import type { ConnRef } from './effects.js';
import type { Envelope, Reply } from './envelope.js';
import type { SnapshotStore } from './snapshots.js';
import type { TraceTaps } from './trace.js';
import type { RuntimeMetrics } from './metrics.js';
import type { Wakeable } from './wake-queue.js';

/**
 * 'active'/'closed': an instance started or left. 'adopted': a migrated actor became available here (dormant).
 * 'fenced' (kind and id empty): the node's fence ran out at `atMs` (wall clock): from then on none of its instances
 * served, whenever it noticed (a SIGSTOPped process notices only when continued, and closes its instances then).
 */
export type LifecycleHook = (event: 'active' | 'closed' | 'adopted' | 'fenced', kind: string, id: string, node: string, atMs?: number) => void;

export interface RuntimeLimits {
  mailboxLimit: number;
  lifecycleEvents?: boolean;
  maxRestarts: number;
  restartWindowMs: number;
  passivateAfterMs: number;
  /** Idle time after which a live actor keeps only a compact image until its next message (hibernate.ts); 0: never. */
  hibernateAfterMs?: number;
  askTimeoutMs: number;
  /** How far ahead of the wall clock an envelope's sequence may run (default DEFAULT_SEQ_AHEAD_MS, seen.ts). */
  seqAheadMs?: number;
  /** Buckets the durable snapshots are spread over, by shard (snapshots.ts); default 1. */
  snapshotBuckets?: number;
  /** When the node stops, how long asks of turns in progress may still be answered before they end (default 1000). */
  stopAskGraceMs?: number;
}

/** Effects leaving the node (EffectSink): a committed turn's replies and pushes. */
export interface CellEffects {
  respond(msg: BusMsg, reply: Reply): void;
  push(to: ConnRef[], route: string, body: unknown): void;
  /** Sends pushes still waiting for their batch (EffectSink): before a message that must not overtake them. */
  flush?(): void;
}

/** What a cell asks of the registry holding it (CellRegistry). */
export interface CellHome {
  /** The cell has left memory (passivated, fenced, handed over): forget it (only if it is still this cell). */
  removed(kind: string, id: string, cell: object): void;
  /** A dormant (migrated, not yet restored) cell has work: call its `wake()` soon, in a batch with others; `urgent`
   * when an asker is waiting (those go first). */
  wakeLater(cell: Wakeable, urgent?: boolean): void;
  /** Turns wait for the node to confirm its ownership again (CellContext.serving): `pump()` it when it does. */
  park(runner: { pump(): void }): void;
  /** A message a closed cell still held: deliver it to a fresh instance (or wherever the actor lives now). */
  redeliver(kind: string, id: string, env: Envelope, msg: BusMsg): void;
}

export interface CellContext {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly client: ActorClient;
  /** Set by the host's start() when a kind is durable. */
  snapshots?: SnapshotStore;
  /**
   * Whether this node may process messages of sharded actors now (set by the cluster: false while it cannot confirm
   * it is still heard, so others may be taking its shards). Absent: always.
   */
  serving?: () => boolean;
  readonly taps: TraceTaps;
  readonly limits: RuntimeLimits;
  readonly metrics: RuntimeMetrics;
  /** Observes instances starting and leaving (tests check "never two live instances" with it). */
  readonly lifecycle?: LifecycleHook;
  readonly effects: CellEffects;
  readonly home: CellHome;
  /**
   * Rejects (ACTOR_STOPPED) `limits.stopAskGraceMs` after the node starts stopping: an `ask` inside a turn ends then
   * instead of waiting out its timeout, so the turn, and the node's stop, are not held by an actor that will not
   * answer (it may be stopping too). A live actor's answer arrives well within the grace and is used as usual.
   */
  readonly stopping?: Promise<never>;
}
