/**
 * Who runs the balancer: the live node with the smallest id, as this node's heartbeat view sees it (liveness.ts).
 * No store round trip, so a JetStream election cannot depose a leader. Views can differ for a heartbeat or two (a
 * node joining, one dying), so two nodes may lead at once for that long: every balancer decision is a CAS write on a
 * lease, so the two cannot both win one.
 *
 * A node leads only once its view is complete: it has listened for `deadAfterMs` since it started or last recovered
 * from a lapse. A node that has heard nobody yet would otherwise see every other owner as dead and take every shard.
 *
 * The leader also puts its id under `leader` in the `cluster` bucket, best effort, for operators (`gatehouse status`).
 */
import type { Logger } from 'pino';
import type { KvBucket } from '../bus/store.js';
import type { Liveness } from './liveness.js';
import { LEADER_KEY } from './records.js';

export class LeaderElection {
  leader = false;
  current?: string;
  private putting = false;

  constructor(
    private readonly bucket: KvBucket,
    private readonly nodeId: string,
    private readonly liveness: Liveness,
    private readonly log: Logger,
  ) {}

  tick(): boolean {
    const ready = this.liveness.viewComplete();
    const first = this.liveness.alive()[0]?.id;
    this.current = first;
    const now = ready && first === this.nodeId;
    if (now !== this.leader) this.log.info({ leader: now }, now ? 'leading the cluster (smallest live id)' : 'no longer leading the cluster');
    this.leader = now;
    if (now && !this.putting) {
      this.putting = true;
      this.bucket
        .put(LEADER_KEY, new TextEncoder().encode(this.nodeId))
        .catch(() => undefined)
        .finally(() => (this.putting = false));
    }
    return now;
  }

  async resign(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    await this.bucket.delete(LEADER_KEY).catch(() => undefined);
  }
}
