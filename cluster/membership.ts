/**
 * Membership: who is alive comes from heartbeats over core NATS (liveness.ts); this class adds the record every node
 * keeps in the `nodes` bucket for operators (`gatehouse status`, `move`), refreshed by plain puts, best effort.
 *
 * The bucket's TTL no longer decides anything. Before, a node was alive while its record had not expired, so a
 * JetStream stream-leader election (writes failing for 4–8 s, calls hanging until their timeout) let every node's
 * record lapse together and every node dropped or re-read its shards. A failed or slow put now only leaves the
 * operators' listing stale; one put is in flight at a time.
 */
import type { Logger } from 'pino';
import type { KvBucket } from '../bus/store.js';
import { encodeId } from '../bus/subjects.js';
import type { Liveness } from './liveness.js';
import { encodeRecord, type NodeRecord } from './records.js';

export class Membership {
  private putting = false;
  private failing = false;

  constructor(
    private readonly bucket: KvBucket,
    private readonly self: () => NodeRecord,
    private readonly liveness: Liveness,
    private readonly log: Logger,
  ) {}

  private get key(): string {
    return encodeId(this.self().id);
  }

  /** Refreshes the operators' record; never throws, never waits for a previous put. */
  tick(): void {
    if (this.putting) return;
    this.putting = true;
    this.bucket.put(this.key, encodeRecord(this.self())).then(
      () => {
        if (this.failing) this.log.info('node record written again');
        this.failing = false;
      },
      (err) => {
        if (!this.failing) this.log.warn({ err }, 'cannot write the node record (operators see a stale listing; liveness is unaffected)');
        this.failing = true;
      },
    ).finally(() => (this.putting = false));
  }

  /**
   * A write the replicated store commits only with a quorum of its servers: succeeding proves this node reaches the
   * quorum side of a split (a read could still be answered by a cut-off stream leader for seconds). Throws on failure.
   */
  async proveQuorum(): Promise<void> {
    await this.bucket.put(this.key, encodeRecord(this.self()));
  }

  /** Live nodes (heard within deadAfterMs), sorted by id. */
  async view(): Promise<NodeRecord[]> {
    return this.liveness.alive();
  }

  async leave(): Promise<void> {
    await this.bucket.delete(this.key).catch(() => undefined);
  }
}
