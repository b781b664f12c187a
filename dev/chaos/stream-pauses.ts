/**
 * The per-stream breakdown of a nats-server kill, pure: each actor's longest pause in the kill's window, grouped by
 * whether the dead server led the stream holding the actor's snapshots, set against that run's measured elections.
 * What it must show: only the actors of the streams the server led pause, and for no longer than their stream took to
 * elect a new leader (plus the time a client needs to notice: one ask answered after the new leader is there).
 */
import { bucketName } from '../../bus/subjects.js';
import { snapshotBucketIndex, snapshotBucketNames } from '../../actors/runtime/snapshots.js';
import type { Election } from './streams.js';

/** An ask unanswered for this long is a pause; shorter is ordinary latency under load (GC, a busy host). */
export const PAUSE_MS = 1000;

export interface GroupPauses {
  actors: number;
  /** Actors with a pause of at least PAUSE_MS. */
  paused: number;
  /** Longest pause of one actor in the group (ms), and which. */
  longestMs: number;
  longestActor: string;
}

export interface NatsKillBreakdown {
  fault: string;
  server: string;
  /** KV streams of the deployment, and the ones the dead server led just before the kill. */
  streams: number;
  led: string[];
  elections: Election[];
  /** Longest election among the led streams (ms); null when one had no leader within the bound. */
  electionMs: number | null;
  /** Durable actors whose snapshot stream the dead server led. */
  ledStreams: GroupPauses;
  /**
   * Longest pause of an actor of a led stream beyond its own stream's election (ms; negative: every such actor was
   * back before its stream's election ended, as seen by the poller). A few hundred ms is the load's own pacing: an
   * actor is asked about once a second, so its first answer after the election can come that much later.
   */
  overElectionMs: number | null;
  /** Durable actors of the other streams. */
  otherStreams: GroupPauses;
  /** In-memory actors (no stream). */
  inMemory: GroupPauses;
  /** The paused actors outside the led streams (durable and in-memory, at most 20), with the node serving each then. */
  pausedOutside: Array<{ actor: string; ms: number; node: string }>;
}

export interface BreakdownInput {
  fault: string;
  server: string;
  prefix: string;
  shards: number;
  snapshotBuckets: number;
  leaders: ReadonlyMap<string, string>;
  elections: Election[];
  /** actor key (`kind/id`) → longest unavailability in this fault, ms */
  pauses: ReadonlyMap<string, number>;
  /** actor key → the node that served it when the server was killed ('' when unknown). */
  nodeOf?: (actor: string) => string;
  durable: ReadonlyArray<{ kind: string; id: string }>;
  memory: ReadonlyArray<{ kind: string; id: string }>;
}

function group(keys: readonly string[], pauses: ReadonlyMap<string, number>): GroupPauses {
  const g: GroupPauses = { actors: keys.length, paused: 0, longestMs: 0, longestActor: '' };
  for (const k of keys) {
    const ms = pauses.get(k) ?? 0;
    if (ms >= PAUSE_MS) g.paused++;
    if (ms > g.longestMs) {
      g.longestMs = ms;
      g.longestActor = k;
    }
  }
  return g;
}

export function natsKillBreakdown(i: BreakdownInput): NatsKillBreakdown {
  const names = snapshotBucketNames(i.snapshotBuckets).map((b) => `KV_${bucketName(i.prefix, b)}`);
  const led = [...i.leaders].filter(([, l]) => l === i.server).map(([s]) => s);
  const ledSet = new Set(led);
  const inLed: string[] = [];
  const inOther: string[] = [];
  const electionOf = new Map(i.elections.map((e) => [e.stream, e.ms]));
  let over: number | null = -Infinity;
  for (const t of i.durable) {
    const stream = names[snapshotBucketIndex(t.id, i.shards, i.snapshotBuckets)]!;
    const key = `${t.kind}/${t.id}`;
    (ledSet.has(stream) ? inLed : inOther).push(key);
    if (!ledSet.has(stream) || over === null) continue;
    const e = electionOf.get(stream);
    over = e === null || e === undefined ? null : Math.max(over, (i.pauses.get(key) ?? 0) - e);
  }
  const times = i.elections.map((e) => e.ms);
  const pausedOutside = [...inOther, ...i.memory.map((t) => `${t.kind}/${t.id}`)]
    .map((actor) => ({ actor, ms: i.pauses.get(actor) ?? 0 }))
    .filter((x) => x.ms >= PAUSE_MS)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 20)
    .map((x) => ({ ...x, node: i.nodeOf?.(x.actor) ?? '' }));
  return {
    fault: i.fault,
    server: i.server,
    streams: i.leaders.size,
    led,
    elections: i.elections,
    electionMs: times.some((t) => t === null) ? null : Math.max(0, ...(times as number[])),
    ledStreams: group(inLed, i.pauses),
    overElectionMs: over === -Infinity ? null : over,
    otherStreams: group(inOther, i.pauses),
    inMemory: group(i.memory.map((t) => `${t.kind}/${t.id}`), i.pauses),
    pausedOutside,
  };
}
