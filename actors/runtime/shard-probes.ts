/**
 * Migration probes as the shard inbox sees them. A live move asks every node to publish a probe on each moving
 * shard's own subject (`<kind>.<shard>.~probe`), on the data connection, behind the messages it vouches for: a probe
 * from node N reaching the new owner proves N's server routes the shard there; reaching the old owner it proves every
 * message N sent before it has arrived (cluster/migration.ts has the protocol). The inbox records each probe it
 * receives here, for the move that asked for it (`mid`), and the move waits here until every node's probe arrived.
 */
import type { Bus } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import type { Clock } from '../../common/clock.js';
import { GatehouseError } from '../../common/errors.js';
import { shardKey } from './shard-key.js';

export class ShardProbes {
  /** moveId → shard key → nodes whose probe arrived here. */
  private readonly seenByMove = new Map<string, Map<string, Set<string>>>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly nodeId: string,
  ) {}

  /** Publishes this node's probe on each shard's subject, flushed before it resolves. */
  async publish(units: ReadonlyArray<{ kind: string; shard: number }>, mid: string): Promise<void> {
    const payload = encode({ n: this.nodeId, mid });
    for (const u of units) this.bus.publish(subjects.probe(u.kind, u.shard), payload);
    await this.bus.flush();
  }

  /** The inbox: a probe arrived on an owned or buffered shard. */
  seen(kind: string, shard: number, payload: Uint8Array): void {
    let p: { n?: unknown; mid?: unknown };
    try {
      p = decode(payload);
    } catch {
      return;
    }
    if (typeof p?.n !== 'string' || typeof p.mid !== 'string') return;
    let byUnit = this.seenByMove.get(p.mid);
    if (!byUnit) this.seenByMove.set(p.mid, (byUnit = new Map()));
    const key = shardKey(kind, shard);
    let nodes = byUnit.get(key);
    if (!nodes) byUnit.set(key, (nodes = new Set()));
    nodes.add(p.n);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once each of `nodes` has probed each shard of `keys` for move `mid`; MOVE_ABORTED after `timeoutMs`. */
  wait(mid: string, keys: string[], nodes: string[], timeoutMs: number): Promise<void> {
    const missing = () => {
      const byUnit = this.seenByMove.get(mid);
      const out: string[] = [];
      for (const k of keys) for (const n of nodes) if (!byUnit?.get(k)?.has(n)) out.push(`${k}<-${n}`);
      return out;
    };
    if (missing().length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (missing().length) return;
        cleanup();
        resolve();
      };
      const timer = this.clock.setTimeout(() => {
        cleanup();
        const m = missing();
        reject(new GatehouseError('MOVE_ABORTED', `probes missing after ${timeoutMs} ms: ${m.slice(0, 5).join(', ')}${m.length > 5 ? '…' : ''}`));
      }, timeoutMs);
      const cleanup = () => {
        this.waiters.delete(check);
        this.clock.clearTimeout(timer);
      };
      this.waiters.add(check);
    });
  }

  /** A move ended (either side): its probes are no longer needed. */
  forget(mid: string): void {
    this.seenByMove.delete(mid);
  }
}
