/**
 * Where each shard should live: weighted rendezvous (highest-random-weight) hashing. Every (node, shard) pair gets a
 * pseudo-random score scaled by the node's capacity; the highest score wins. Adding a node only takes the shards it
 * now wins (about capacity/total of them) and moves nothing between the others: the minimal movement the balancer
 * promises. Pure and deterministic: every node computes the same answer from the same inputs.
 */
import { hashId } from '../bus/subjects.js';
import { parseShardKey, shardKey } from '../actors/runtime/shard-key.js';

export interface NodeWeight {
  id: string;
  capacity: number;
}

export interface ShardUnit {
  kind: string;
  shard: number;
}

export function unitKey(u: ShardUnit): string {
  return shardKey(u.kind, u.shard);
}

export const parseUnitKey: (key: string) => ShardUnit = parseShardKey;

/** murmur3's finalizer: FNV-1a alone leaves similar strings (node-1|room.3, node-1|room.4) correlated. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in (0, 1) from a string, via two well-mixed 32-bit hashes (one is too coarse for -ln). */
function unit01(s: string): number {
  const h = hashId(s);
  const a = fmix(h ^ 0x9e3779b9);
  const b = fmix(Math.imul(h, 0x27d4eb2f) ^ 0x165667b1);
  return (a * 4294967296 + b + 1) / (4294967296 * 4294967296 + 2);
}

/** Weighted rendezvous score: -w / ln(u) (Schindelhauer & Schomaker); larger wins. */
export function score(node: string, key: string, capacity: number): number {
  return -capacity / Math.log(unit01(`${node}|${key}`));
}

export function targetOwner(key: string, nodes: readonly NodeWeight[]): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const n of nodes) {
    const s = score(n.id, key, n.capacity);
    if (s > bestScore || (s === bestScore && best !== undefined && n.id < best)) {
      best = n.id;
      bestScore = s;
    }
  }
  return best;
}

export function allocate(units: readonly ShardUnit[], nodes: readonly NodeWeight[]): Map<string, string> {
  const out = new Map<string, string>();
  if (nodes.length === 0) return out;
  for (const u of units) out.set(unitKey(u), targetOwner(unitKey(u), nodes)!);
  return out;
}

export function allUnits(kinds: readonly string[], shards: number): ShardUnit[] {
  const out: ShardUnit[] = [];
  for (const kind of kinds) for (let shard = 0; shard < shards; shard++) out.push({ kind, shard });
  return out;
}

export interface LeaseView {
  owner: string;
  moving: boolean;
}

export interface Plan {
  /** Unowned, or owned by a node that is gone: give to the target directly (no hand-over possible). */
  assign: Array<{ key: string; to: string }>;
  /** Owned by a live node that is not the target: live-migrate, grouped per (from, to) pair. */
  moves: Array<{ from: string; to: string; keys: string[] }>;
}

/**
 * Compares current leases with the target allocation. Moves are capped at `maxMoves` in flight (counting the ones
 * already moving) and taken from draining nodes first, then in key order.
 */
export function plan(
  target: ReadonlyMap<string, string>,
  leases: ReadonlyMap<string, LeaseView>,
  alive: ReadonlySet<string>,
  opts: { maxMoves: number; draining?: ReadonlySet<string> },
): Plan {
  const assign: Plan['assign'] = [];
  const wanted: Array<{ key: string; from: string; to: string }> = [];
  let inFlight = 0;
  for (const l of leases.values()) if (l.moving) inFlight++;
  for (const [key, to] of target) {
    const l = leases.get(key);
    if (!l || !alive.has(l.owner)) {
      if (!l?.moving) assign.push({ key, to });
      continue;
    }
    if (l.moving || l.owner === to) continue;
    wanted.push({ key, from: l.owner, to });
  }
  const draining = opts.draining ?? new Set<string>();
  wanted.sort((a, b) => Number(draining.has(b.from)) - Number(draining.has(a.from)) || (a.key < b.key ? -1 : 1));
  const budget = Math.max(0, opts.maxMoves - inFlight);
  const groups = new Map<string, { from: string; to: string; keys: string[] }>();
  for (const w of wanted.slice(0, budget)) {
    const g = groups.get(`${w.from}>${w.to}`);
    if (g) g.keys.push(w.key);
    else groups.set(`${w.from}>${w.to}`, { from: w.from, to: w.to, keys: [w.key] });
  }
  return { assign, moves: [...groups.values()] };
}
