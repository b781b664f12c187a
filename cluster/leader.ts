/**
 * Leader election through the store: the leader holds the `leader` key in a bucket whose TTL is the failure-detection
 * time and refreshes it with compare-and-set. When it stops, the key expires and the next node to `create` it leads.
 * Only the leader runs the balancer; its decisions are still CAS writes on leases, so a deposed leader that has not
 * noticed yet cannot overwrite a newer decision.
 */
import type { Logger } from 'pino';
import type { KvBucket } from '../bus/store.js';
import { LEADER_KEY } from './records.js';

export class LeaderElection {
  private revision = 0;
  leader = false;
  current?: string;

  constructor(
    private readonly bucket: KvBucket,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  async tick(): Promise<boolean> {
    const me = new TextEncoder().encode(this.nodeId);
    try {
      if (this.leader) {
        this.revision = await this.bucket.update(LEADER_KEY, me, this.revision);
        return true;
      }
      const e = await this.bucket.get(LEADER_KEY);
      if (e) {
        this.current = new TextDecoder().decode(e.value);
        return false;
      }
      this.revision = await this.bucket.create(LEADER_KEY, me);
      this.leader = true;
      this.current = this.nodeId;
      this.log.info('elected cluster leader');
      return true;
    } catch (err) {
      if (this.leader) this.log.warn({ err }, 'lost cluster leadership');
      this.leader = false;
      return false;
    }
  }

  async resign(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    await this.bucket.delete(LEADER_KEY, this.revision).catch(() => undefined);
  }
}
