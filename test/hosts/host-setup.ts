/**
 * Shared by the test-host scenarios (test/hosts/*.test.ts): the oracle reading every actor's log against what the
 * load acknowledged (the chaos run's), and a reason to skip when network namespaces cannot be made.
 */
import type { ActorClient } from '../../actors/runtime/client.js';
import { checkActorLog, emptyCounts, type SeqCounts } from '../../dev/chaos/checks.js';
import type { LoadStats, Target } from '../../dev/chaos/load.js';
import { netnsUnavailable } from '../../dev/hosts/netns.js';
import { eventually } from '../../dev/wait.js';

/** Why these tests skip here, or undefined when they run. */
export const NO_NETNS = netnsUnavailable();
if (NO_NETNS) process.stderr.write(`test/hosts: skipped: ${NO_NETNS}\n`);

/** Reads every target's log (each must answer within the bound) and checks it: durable and in-memory apart. */
export async function checkLogs(reader: ActorClient, targets: readonly Target[], stats: LoadStats): Promise<{ durable: SeqCounts; memory: SeqCounts }> {
  const durable = emptyCounts();
  const memory = emptyCounts();
  for (const t of targets) {
    const rec = stats.records.get(`${t.kind}/${t.id}`)!;
    const s = await eventually(() => reader.ask<{ log: Array<[string, number]> }>(t, { type: 'get' }), { timeoutMs: 30_000, intervalMs: 250, what: `${t.kind}/${t.id} to answer get` });
    checkActorLog(`${t.kind}/${t.id}`, s.log, rec.acked, rec.notOwner, t.kind === 'ledger' ? durable : memory);
  }
  return { durable, memory };
}

export const targetsOf = (durable: number, memory: number): Target[] => [
  ...Array.from({ length: durable }, (_, i) => ({ kind: 'ledger', id: `d${i}` })),
  ...Array.from({ length: memory }, (_, i) => ({ kind: 'tally', id: `m${i}` })),
];
