/**
 * Documented defaults, frozen. Ports 0 mean "pick a free one" (tests); the CLI's `start` sets the well-known ports.
 * Apps' sections have their own defaults (sections.ts).
 */
import type { Config } from './schema.js';

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export const DEFAULTS: Readonly<Config> = deepFreeze({
  prefix: 'gh',
  // threadQueueBytes: nats-server's default max_pending for a slow consumer.
  node: { roles: ['gateway', 'worker'], capacity: 1, threads: 0, threadQueueBytes: 64 * 1024 * 1024, apps: [] },
  // Embedded mode by default: one process, no NATS needed.
  bus: { kind: 'memory' },
  // Embedded mode keeps its records on disk (bus/lmdb-store.ts); tests and demos choose 'memory'.
  store: { kind: 'lmdb', path: './data' },
  nats: {
    servers: ['nats://127.0.0.1:4222'],
    replicas: 1,
    connectTimeoutMs: 5000,
    // Reconnect fast and notice a dead server in ~4 s (nats.js defaults take minutes).
    reconnectTimeWaitMs: 250,
    pingIntervalMs: 2000,
  },
  actors: {
    shards: 64,
    mailboxLimit: 1000,
    askTimeoutMs: 5000,
    passivateAfterMs: 5 * 60_000,
    // An idle live actor keeps only a compact image (~0.2 KB instead of ~4.7 KB) until its next message; 0: never.
    hibernateAfterMs: 30_000,
    maxRestarts: 3,
    restartWindowMs: 10_000,
    lifecycleEvents: false,
    // The most a forged sequence can silence one sender at one actor (actors/runtime/seen.ts); ≫ NTP clock skew.
    seqAheadMs: 60_000,
    // 6 streams: about two led by each server of a 3-server cluster, so a server's loss stalls about a third of the
    // durable actors instead of all; each stream is one more Raft group per server (cheap at this count).
    snapshotBuckets: 6,
    // Pushes batched per gateway per event-loop turn: no added wait, < 1 µs more per push when nothing batches, and 16
    // pushes of one turn cost worker + NATS server + gateway 12.8 µs each instead of 17.1 (CPU micro, load 3-9). A tick
    // (5 ms) saved more in the micro but adds up to its length to every push, and bench chat (rooms of 10, -1/0/5 in
    // one run, load 9-17) showed no difference beyond its noise: a tick is left to high-rate layers that opt in.
    pushTickMs: 0,
    // When a node stops, an ask a turn is waiting on gets this long to be answered (a live actor answers in ms), then
    // ends with ACTOR_STOPPED: an actor that will not answer (stopping too, or gone) must not hold the stop for the
    // ask's whole timeout (a session's end hook: 10 s, the bound after which a thread node is terminated).
    stopAskGraceMs: 1000,
  },
  cluster: {
    // Liveness over core NATS (cluster/liveness.ts): a kill -9'd worker is declared dead 1.5 s after its last
    // heartbeat; a node that cannot hear itself stops serving after 1 s, half a second before anyone may take over.
    heartbeatMs: 250,
    deadAfterMs: 1500,
    fenceAfterMs: 1000,
    // JetStream answers a write within ~1 ms, or fails fast (503) while a stream elects; a call past 2 s is lost.
    storeTimeoutMs: 2000,
    // A restarted 3-server cluster takes 5–30 s to elect its JetStream leaders (docs/INVARIANTS.md).
    startDeadlineMs: 60_000,
    maxConcurrentMoves: 64,
    rebalanceIntervalMs: 2000,
    // Window: bench migration (10 k actors, 64 shards of ~156) at 150/200/250/300/500 actors: 200 kept every run under
    // 1 s and 50 ms p99; 150 let a move run past 1 s, 300 and up let p99 pass 50 ms in about a run in four.
    migration: { probeTimeoutMs: 5000, handoverTimeoutMs: 30_000, chunkBytes: 256 * 1024, handoverWindowActors: 200, ackWaitMs: 1000 },
  },
  gateway: {
    host: '127.0.0.1',
    wsPort: 7350,
    tcpPort: 7351,
    pomeloWsPort: 3010,
    pomeloTcpPort: 3011,
    httpPort: 7380,
    heartbeatMs: 10_000,
    maxFrameBytes: 64 * 1024,
    outboundLimitBytes: 1024 * 1024,
    requestsPerSecond: 50,
    requestBurst: 100,
    sessionGraceMs: 30_000,
    duplicateLogin: 'refuse',
    // `none` so that the first `npm start` works; the banner and a warning say so, and a non-loopback host refuses
    // it. Production: `token` or `hook` (docs/OPERATIONS.md, production checklist).
    auth: { mode: 'none', clockToleranceSec: 5, anonymousApps: ['chat'], allowNoneOnPublicHost: false },
    // ~11 KB heap per client (bench gateway): 20 000 clients ≈ 230 MB, and this host's per-process file limit.
    maxConnections: 20_000,
    // Below the 200 sockets one host opened in the hostile-mix benchmark; players behind one NAT rarely exceed it.
    maxConnectionsPerAddress: 64,
    // Without a shared budget one host holding 64 connections at 50/s each offers 3 200 requests/s, a 2-core
    // server's whole capacity (bench hostile: a well-behaved client's p99 rose 17x during such bursts).
    requestsPerSecondPerAddress: 400,
    requestBurstPerAddress: 800,
    // The budget alone let 200 sockets of one host hold hundreds of requests waiting on actors in front of everyone
    // else's (bench hostile); a client pipelining 64 at once still never waits (and loopback is exempt).
    maxInFlightPerAddress: 64,
    // Loopback is where a local proxy and local load tests connect from; remote attackers cannot appear there.
    connectionLimitExempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
    // Refusals up to the request rate are tolerated without end (a client at up to 2x the limit, backing off);
    // a client at 6x (250 refusals/s at the defaults) passes 200 within a second and is closed.
    floodRefusalsPerSecond: 50,
    floodRefusalBurst: 200,
    procs: 1,
    // Channel publishes (lobby relays) for other gateways gathered per tick (gateway/channels.ts). bench lobby, 600
    // bots at 2 Hz, one gateway, server CPU per relay (gateway + nats-server, relay windows minus paused ones) at a
    // tick of 0/5/10/20/50 ms: 115/95/85/~70/81 µs (the NATS server reads one buffer per tick instead of one per
    // relay). 10: most of the saving, and a relay crossing gateways waits at most 10 ms, within a 20 ms p99 budget
    // where 20 would not be. Players on the relaying gateway get relays at once whatever the tick.
    channelTickMs: 10,
  },
  log: { level: 'info', pretty: false, format: 'auto' },
  metrics: { enabled: true, port: 7390, consoleClients: 16 },
});
