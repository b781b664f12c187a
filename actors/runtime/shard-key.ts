/**
 * The one name of a shard, `<kind>.<shard>`: the key of a host's shard subscriptions and buffers, of the cluster's
 * leases, moves and probes. Kind names may contain dots, so parsing splits at the last one.
 */
export function shardKey(kind: string, shard: number): string {
  return `${kind}.${shard}`;
}

export function parseShardKey(key: string): { kind: string; shard: number } {
  const dot = key.lastIndexOf('.');
  return { kind: key.slice(0, dot), shard: Number(key.slice(dot + 1)) };
}
