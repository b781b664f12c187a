/**
 * Durable-kind turns in embedded mode: an embedded node (in this process) whose durable actors (the demo `ledger`,
 * persistence 'snapshot': every turn writes its snapshot with compare-and-set before the reply) are asked by
 * IN_FLIGHT (or a window's own count of) clients at once over ACTORS actors, on the in-memory store or on LMDB. Same node code, same process:
 * the ratio is what keeping the records on disk costs a turn.
 */
import { ActorClient } from '../../actors/runtime/client.js';
import { ledgerKind } from '../../actors/demo/ledger.js';
import { testConfig } from '../../dev/test-config.js';
import { createEmbedded, startNode } from '../../server/node.js';
import { silentLogger } from '../../common/logger.js';
import { commitStats } from '../../bus/lmdb/files.js';
import { IN_FLIGHT, timed, type WindowResult } from './workloads.js';

const ACTORS = 1000;

export interface TurnSide {
  /** One window of `inFlight` clients asking at once (default IN_FLIGHT). */
  window(ms: number, inFlight?: number): Promise<WindowResult>;
  close(): Promise<void>;
}

export async function turnSide(store: { kind: 'memory' } | { kind: 'lmdb'; path: string }): Promise<TurnSide> {
  const prefix = `turns-${store.kind}`;
  const config = testConfig({
    prefix,
    node: { roles: ['worker'] },
    store: store.kind === 'lmdb' ? { kind: 'lmdb', path: store.path } : { kind: 'memory' },
    actors: { passivateAfterMs: 3_600_000 },
    metrics: { enabled: false },
    log: { level: 'warn' },
  });
  const embedded = createEmbedded();
  const node = await startNode({ config, apps: [{ name: 'bench', kinds: [ledgerKind] }], embedded, log: silentLogger });
  const bus = embedded.broker.connect({ prefix });
  const client = new ActorClient(bus, { shards: config.actors.shards, askTimeoutMs: 30_000 });
  const inc = { type: 'inc' };
  // Every actor exists (and has its first snapshot) before the windows.
  for (let i = 0; i < ACTORS; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, ACTORS - i) }, (_, j) => client.ask({ kind: 'ledger', id: `t${i + j}` }, inc)));
  }
  let next = 0;
  return {
    window: async (ms, inFlight = IN_FLIGHT) => {
      const before = { ...commitStats };
      const r = await timed(ms, async (until) => {
        let done = 0;
        const worker = async () => {
          while (performance.now() < until) {
            await client.ask({ kind: 'ledger', id: `t${next++ % ACTORS}` }, inc);
            done++;
          }
        };
        await Promise.all(Array.from({ length: inFlight }, worker));
        return done;
      });
      // Windows run one at a time, so the process-wide counters moved for this side only (none on memory).
      if (store.kind === 'lmdb') {
        r.commits = {
          transactions: commitStats.transactions - before.transactions,
          writes: commitStats.writes - before.writes,
          commitMs: commitStats.commitMs - before.commitMs,
        };
      }
      return r;
    },
    async close() {
      await node.stop();
      await bus.close();
    },
  };
}
