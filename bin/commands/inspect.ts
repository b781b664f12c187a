/**
 * `gatehouse inspect <kind>/<id>` on a cluster: asks a live node (`sys.info.<node>`, read-only) to ask the actor for
 * its `$inspect` view, redacted (actors/runtime/turn-views.ts). The tool itself never publishes into an actor's inbox:
 * that is what lets the `ops` NATS user inspect without being able to forge messages to actors or poison their
 * dedupe marks (docs/SECURITY.md).
 */
import { callNode } from '../../cluster/control.js';
import { BUCKETS, decodeRecord, type NodeRecord } from '../../cluster/records.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { Config } from '../../config/schema.js';
import type { ToolConnection } from './cluster-tools.js';

/** Nodes tried at most: one that does not answer (dying, draining) should not fail the command. */
const TRIES = 3;

/** Errors that come from the actor (or its kind), not from the node relaying: another node would answer the same. */
const FINAL = new Set<string>([ErrorCode.BadMessage, ErrorCode.UnknownKind, ErrorCode.ActorStopped, ErrorCode.NotFound, ErrorCode.PermissionDenied]);

export async function inspectViaNode(t: ToolConnection, config: Config, to: { kind: string; id: string }): Promise<unknown> {
  const bucket = await t.store.bucket(BUCKETS.nodes, { ttlMs: config.cluster.deadAfterMs });
  const nodes = (await bucket.entries()).map((e) => decodeRecord<NodeRecord>(e.value));
  // Workers first: they host the actors, so their answer is one hop shorter.
  nodes.sort((a, b) => Number(b.roles.includes('worker')) - Number(a.roles.includes('worker')) || (a.id < b.id ? -1 : 1));
  if (nodes.length === 0) throw new GatehouseError(ErrorCode.NoResponders, `no live node in deployment ${config.prefix} to ask`);
  let last: unknown;
  for (const n of nodes.slice(0, TRIES)) {
    try {
      return await callNode(t.bus, n.id, { type: 'inspect', kind: to.kind, id: to.id }, config.actors.askTimeoutMs + 1000);
    } catch (err) {
      if (FINAL.has((err as { code?: string }).code ?? '')) throw err;
      last = err;
    }
  }
  throw last;
}
