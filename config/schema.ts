/**
 * The runtime's typed configuration. Every field is documented here; defaults live in defaults.ts (frozen). Unknown
 * fields are errors (a typo must not silently fall back to a default). Apps' own settings are not here: each app
 * declares its section (sections.ts; the lobby's is lobby/config.ts) and loadConfig validates it alongside.
 */
import { z } from 'zod';
import { authSchema } from './auth.js';

const natsUrl = z
  .string()
  .refine((s) => /^(nats|tls|ws|wss):\/\/[^\s/]+(:\d+)?\/?$/.test(s), {
    message: 'expected a NATS URL like nats://host:4222 (schemes: nats, tls, ws, wss)',
  });
const port = z.number().int().min(0).max(65535);
const positiveMs = z.number().int().positive();
const prefix = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected one subject token: A-Z a-z 0-9 _ - (1–64 chars)');

export const roleSchema = z.enum(['gateway', 'worker']);
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export const logFormatSchema = z.enum(['auto', 'pretty', 'json']);

export const configSchema = z
  .object({
    /** Deployment prefix: first token of every subject and of every store bucket name. */
    prefix,
    node: z
      .object({
        /** Node id; generated (host-pid-random) when absent. */
        id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected A-Z a-z 0-9 _ - (1–64 chars)').optional(),
        roles: z.array(roleSchema).min(1),
        /** Relative share of actors this node takes (weighted placement). */
        capacity: z.number().positive().max(1000),
        /** Extra worker nodes in worker_threads of this process. */
        threads: z.number().int().min(0).max(64),
        /**
         * `start --threads` without NATS: bytes the main thread may post to one thread's bus or store port that the
         * thread has not yet read (bus/thread/port-credit.ts). Past it the thread is a slow consumer: its messages and
         * watch changes are dropped (counted, logged). At least 1 MiB: acks come every 256 KiB read.
         */
        threadQueueBytes: z.number().int().min(1024 * 1024).max(2 ** 32),
        /**
         * App modules loaded besides the built-in apps: file paths (relative to the working directory) or package
         * names; each module exports `app` (or `apps`, a list). Every node of a deployment needs the same apps.
         */
        apps: z.array(z.string().min(1)),
        /**
         * Which built-in apps this node hosts (every node of a deployment needs the same set); all of them when
         * absent. The names are the wiring's (server/apps.ts), which refuses an unknown one.
         */
        builtinApps: z.array(z.string().min(1)).optional(),
      })
      .strict(),
    bus: z.object({ kind: z.enum(['memory', 'nats']) }).strict(),
    /**
     * Where the embedded bus keeps durable state (actor snapshots, sessions): 'lmdb' (on disk in `path`, kept across
     * restarts; one process per directory) or 'memory' (forgotten at exit: tests, demos). Used only with bus.kind
     * 'memory': on NATS the store is always JetStream KV and this section is ignored (a config shared by embedded and
     * clustered runs stays valid; the default would otherwise make every NATS run an error).
     */
    store: z.object({ kind: z.enum(['lmdb', 'memory']), path: z.string().min(1) }).strict(),
    nats: z
      .object({
        servers: z.array(natsUrl).min(1),
        user: z.string().optional(),
        pass: z.string().optional(),
        token: z.string().optional(),
        tls: z
          .object({ certFile: z.string().optional(), keyFile: z.string().optional(), caFile: z.string().optional() })
          .strict()
          .optional(),
        /** JetStream KV replicas per bucket (3 on a 3-server cluster). */
        replicas: z.number().int().min(1).max(5),
        connectTimeoutMs: positiveMs,
        reconnectTimeWaitMs: positiveMs,
        pingIntervalMs: positiveMs,
      })
      .strict(),
    actors: z
      .object({
        /** Shards per kind; fixed for the life of a deployment. */
        shards: z.number().int().min(1).max(4096),
        mailboxLimit: z.number().int().min(1),
        askTimeoutMs: positiveMs,
        passivateAfterMs: positiveMs,
        /** Idle actors without pending timers keep only a compact image after this long (0: never). */
        hibernateAfterMs: z.number().int().min(0),
        maxRestarts: z.number().int().min(0),
        restartWindowMs: positiveMs,
        /** Publish every actor instance start/stop on `sys.lifecycle` (debugging ownership; tests use it). */
        lifecycleEvents: z.boolean(),
        /** An envelope sequence further ahead of the wall clock than this is refused (dedupe-mark poisoning). */
        seqAheadMs: positiveMs,
        /**
         * Durable snapshots are spread over this many buckets (one JetStream stream each, so one Raft leader each) by
         * shard: `shard mod N`. A NATS server's loss then stalls only the streams it led. Fixed for the life of a
         * deployment, like `shards` (1 keeps the single `actors` bucket).
         */
        snapshotBuckets: z.number().int().min(1).max(64),
        /**
         * How a worker sends actors' pushes to a gateway (actors/runtime/effect-sink.ts): -1 one bus message per push;
         * 0 the pushes of one event-loop turn in one message per gateway; >0 one message per gateway per tick of this
         * many ms (a push waits at most one tick). Replies and forwards never overtake a push emitted before them.
         */
        pushTickMs: z.number().int().min(-1).max(1000),
        /** When a node stops, asks its turns are waiting on get this long to be answered, then end with ACTOR_STOPPED. */
        stopAskGraceMs: z.number().int().min(0).max(60_000),
      })
      .strict(),
    cluster: z
      .object({
        /** Liveness heartbeats (core NATS, `sys.hb.<node>`) are published this often. */
        heartbeatMs: positiveMs,
        /** A node not heard for this long is declared dead and its shards are taken over (≥ fenceAfterMs + 2 heartbeats). */
        deadAfterMs: positiveMs,
        /**
         * A node that has not heard its own heartbeat for this long stops serving its shards until it is heard again and
         * has re-read its leases (≥ 3 heartbeats, ≤ deadAfterMs − 2 heartbeats). docs/ARCHITECTURE.md, "Liveness and fencing".
         */
        fenceAfterMs: positiveMs,
        /** Every store call (KV get/put/CAS, stream info) fails after this long; a snapshot write then answers MAYBE_APPLIED. */
        storeTimeoutMs: positiveMs,
        /** Start-up steps (bucket creation, first lease read) retry until this long after start, then the node exits. */
        startDeadlineMs: positiveMs,
        /** Shards in motion at once, cluster-wide. */
        maxConcurrentMoves: z.number().int().min(1),
        rebalanceIntervalMs: positiveMs,
        /** Live migration (docs/ARCHITECTURE.md, "Live migration"). */
        migration: z
          .object({
            /** How long a move waits for every node's probe before it is aborted (nothing moved yet). */
            probeTimeoutMs: positiveMs,
            /** How long the new owner waits for the old owner's whole hand-over. */
            handoverTimeoutMs: positiveMs,
            /** Hand-over message size, at most (one actor bigger than this goes alone). */
            chunkBytes: z.number().int().min(1024).max(8 * 1024 * 1024),
            /** Actors handed over and not yet adopted, at most: pauses grow with it, total move time shrinks. */
            handoverWindowActors: z.number().int().min(1),
            /** How long the old owner waits for an adoption ack before it goes on (acks pace, they do not guard). */
            ackWaitMs: positiveMs,
          })
          .strict(),
      })
      .strict(),
    gateway: z
      .object({
        host: z.string().min(1),
        /** Host name clients should use to reach this gateway (entry endpoint answers with it). */
        publicHost: z.string().min(1).optional(),
        wsPort: port,
        tcpPort: port,
        pomeloWsPort: port,
        pomeloTcpPort: port,
        httpPort: port,
        tls: z.object({ certFile: z.string(), keyFile: z.string() }).strict().optional(),
        heartbeatMs: positiveMs,
        maxFrameBytes: z.number().int().min(256).max(16 * 1024 * 1024),
        outboundLimitBytes: z.number().int().min(1024),
        requestsPerSecond: z.number().positive(),
        requestBurst: z.number().int().positive(),
        sessionGraceMs: positiveMs,
        duplicateLogin: z.enum(['refuse', 'kick']),
        /** How clients authenticate before any app route (config/auth.ts, docs/OPERATIONS.md). */
        auth: authSchema,
        /** Open connections (handshaking ones included) this gateway accepts; more are refused with close 4202. */
        maxConnections: z.number().int().positive(),
        /** Open connections per remote address; more from that address are refused with close 4202. */
        maxConnectionsPerAddress: z.number().int().positive(),
        /**
         * Requests per second all connections of one remote address share (a token bucket, burst
         * `requestBurstPerAddress`), beside each connection's own; exempt addresses are not limited this way. A saved-up
         * burst is spent at up to twice the rate (at most 50 ms of budget, and at most 10 requests, at an instant), not all at once, so one
         * address's burst cannot put a burst's worth of work in front of every other client's next request.
         */
        requestsPerSecondPerAddress: z.number().positive(),
        requestBurstPerAddress: z.number().int().positive(),
        /**
         * Requests of one remote address (all its connections) started and not yet finished; more wait, their address's
         * sockets unread, until one finishes (within the same wait bound as the shared budget; beyond it RATE_LIMITED).
         * The budget paces how fast an address's requests start; this bounds how much of its work is queued at once.
         * Exempt addresses are not limited this way.
         */
        maxInFlightPerAddress: z.number().int().positive(),
        /** Remote addresses the per-address limit does not apply to (a local reverse proxy, local load tests). */
        connectionLimitExempt: z.array(z.string().min(1)),
        /**
         * Sustained flood: RATE_LIMITED refusals fill a bucket that drains at this many per second on the injected
         * clock; a connection whose bucket passes `floodRefusalBurst` is closed with 4200.
         */
        floodRefusalsPerSecond: z.number().positive(),
        floodRefusalBurst: z.number().int().positive(),
        /**
         * Gateway processes serving this node's gateway ports together (node:cluster: the kernel spreads accepted
         * connections over them). Above 1 the bus must be NATS; the first process keeps the other roles.
         */
        procs: z.number().int().min(1).max(64),
        /**
         * Gateway channels (the lobby's fanned-out relays, gateway/channels.ts): 0 publishes a turn's messages for other
         * gateways at the end of the event-loop turn; above 0, a tick of this many ms gathers them into one bus write
         * (each waits at most the tick; members on the publishing gateway get theirs at once either way).
         */
        channelTickMs: z.number().int().min(0).max(1000),
      })
      .strict(),
    /**
     * `format`: `pretty` (readable lines, pino-pretty), `json` (one JSON object a line), or `auto` (pretty when stdout
     * is a terminal, JSON when piped). `pretty: true` is the older spelling of `format: pretty`.
     */
    log: z.object({ level: logLevelSchema, pretty: z.boolean(), format: logFormatSchema.optional() }).strict(),
    /**
     * The node's ops endpoint: /metrics (Prometheus), /status, and the operator console (/console/). Port 0 picks a free
     * one. `consoleClients`: console event streams (SSE) open at once on this node; more are refused with 503.
     */
    metrics: z.object({ enabled: z.boolean(), port: port, consoleClients: z.number().int().min(0).max(1000) }).strict(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type Role = z.infer<typeof roleSchema>;
