/**
 * Membership: every node keeps a record in the `nodes` bucket, whose TTL is the failure-detection time. A node that
 * stops refreshing (crash, kill -9, partition) disappears from the bucket within `deadAfterMs`; the store's expiry,
 * not any one node's clock, decides. Expiry produces no watch event, so views are read, not watched.
 *
 * A node that cannot refresh its record for most of `deadAfterMs` fences itself (drops its shards) before the others
 * declare it dead: an owner must stop before a new owner can start.
 */
import type { Logger } from 'pino';
import type { KvBucket } from '../bus/store.js';
import type { Clock } from '../common/clock.js';
import { encodeId } from '../bus/subjects.js';
import { decodeRecord, encodeRecord, type NodeRecord } from './records.js';

export interface MembershipOptions {
  heartbeatMs: number;
  deadAfterMs: number;
}

export class Membership {
  private revision = 0;
  private lastOk: number;
  private fenced = false;
  /** Our record vanished (we were declared dead) or we fenced ourselves: drop every shard. */
  onLostMembership?: (why: string) => void;

  constructor(
    private readonly bucket: KvBucket,
    private readonly self: () => NodeRecord,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: MembershipOptions,
  ) {
    this.lastOk = clock.now();
  }

  private get key(): string {
    return encodeId(this.self().id);
  }

  async join(): Promise<void> {
    this.revision = await this.bucket.put(this.key, encodeRecord(this.self()));
    this.lastOk = this.clock.now();
    this.fenced = false;
  }

  /** One heartbeat: refresh our record with compare-and-set; detect that we were declared dead. */
  async tick(): Promise<void> {
    try {
      this.revision = await this.bucket.update(this.key, encodeRecord(this.self()), this.revision);
      this.lastOk = this.clock.now();
      this.fenced = false;
    } catch (err) {
      if ((err as { code?: string }).code === 'CONFLICT') {
        // Our record expired (the cluster considers us dead) or was replaced: rejoin as a fresh member.
        this.log.warn('membership record expired while this node was alive (a stall?): rejoining');
        this.onLostMembership?.('membership record expired');
        await this.join().catch((e) => this.log.error({ err: e }, 'rejoin failed'));
        return;
      }
      const silentFor = this.clock.now() - this.lastOk;
      this.log.warn({ err, silentForMs: silentFor }, 'heartbeat failed');
      if (!this.fenced && silentFor > this.o.deadAfterMs * 0.75) {
        this.fenced = true;
        this.log.error({ silentForMs: silentFor }, 'cannot reach the store: fencing myself (dropping all shards)');
        this.onLostMembership?.('store unreachable');
      }
    }
  }

  async view(): Promise<NodeRecord[]> {
    const out: NodeRecord[] = [];
    for (const e of await this.bucket.entries()) {
      try {
        out.push(decodeRecord<NodeRecord>(e.value));
      } catch {
        this.log.warn({ key: e.key }, 'unreadable node record ignored');
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async leave(): Promise<void> {
    await this.bucket.delete(this.key).catch(() => undefined);
  }
}
