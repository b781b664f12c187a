/**
 * The local control endpoint of an embedded node: a Unix socket in its data directory (`<store.path>/gatehouse.sock`,
 * mode 0600: only the owner, who can read the data anyway, gets in) carrying the Bus operations the CLI's tools use
 * (bus/socket/frames.ts) onto the node's in-memory bus. `gatehouse tail|inspect|status|ask|tell` connect to it with
 * bus/socket/socket-bus.ts when no `--nats` is given, so they work on the default mode as they do on a cluster.
 *
 * Bounded: connections, frame size, subscriptions and requests in flight per connection, and bytes queued to a client
 * that does not read (a `tail '>'` on a busy node); past a bound the client gets an error frame naming it, and a
 * connection past the outbound bound is closed. Counted in the node's status (`controlSocket`).
 * Served only with the LMDB store: its directory lock makes the socket's path this process's alone.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Subscription } from '../bus/bus.js';
import { BAD_FRAME, FrameReader, bytes, encodeFrame, headers, int, str, type Frame } from '../bus/socket/frames.js';
import { CONTROL_SOCKET } from '../bus/socket/socket-bus.js';
import { GatehouseError, errorMessage } from '../common/errors.js';
import type { NodeComponent, NodeContext } from '../node-api/node.js';
import { BUCKETS, decodeRecord, type Lease } from '../cluster/records.js';

export interface ControlSocketLimits {
  maxConnections: number;
  maxFrameBytes: number;
  maxSubscriptions: number;
  maxRequests: number;
  /** Bytes queued to one client before it is closed as too slow. */
  maxOutboundBytes: number;
  /** Cap on a request's timeout. */
  maxRequestMs: number;
}

export const CONTROL_SOCKET_LIMITS: Readonly<ControlSocketLimits> = Object.freeze({
  maxConnections: 16,
  maxFrameBytes: 1024 * 1024, // NATS's default max_payload: a tool can send here what it could send to a cluster
  maxSubscriptions: 64,
  maxRequests: 256,
  maxOutboundBytes: 8 * 1024 * 1024,
  maxRequestMs: 60_000,
});

/** Unix socket paths are limited to 107 bytes on Linux (sun_path). */
const MAX_SOCKET_PATH = 107;
/** Paths this process serves: two embedded nodes of one process on one directory must not unlink each other's. */
const served = new Set<string>();

export interface ControlSocket extends NodeComponent {
  readonly path: string | null;
}

export function controlSocketComponent(limits: Partial<ControlSocketLimits> = {}) {
  return (ctx: NodeContext) => startControlSocket(ctx, { ...CONTROL_SOCKET_LIMITS, ...limits });
}

export async function startControlSocket(ctx: NodeContext, limits: ControlSocketLimits): Promise<ControlSocket> {
  const path = join(resolve(ctx.config.store.path), CONTROL_SOCKET);
  const counts = { connections: 0, accepted: 0, refused: 0, badFrames: 0, slowClosed: 0 };
  const off = (why: string): ControlSocket => {
    ctx.log.warn({ path }, `no control socket: ${why}`);
    return { name: 'control-socket', path: null, stop: async () => undefined, status: () => ({ path: null }) };
  };
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return off(`the path is over ${MAX_SOCKET_PATH} bytes (use a shorter store.path)`);
  if (served.has(path)) return off('another node of this process serves it');
  // The directory lock (bus/lmdb/lock.ts) is ours, so a socket file here is a killed process's leftover.
  rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  const sampler = rateSampler(ctx);
  const server: Server = createServer((socket) => {
    if (counts.connections >= limits.maxConnections) {
      counts.refused++;
      socket.end(encodeFrame({ op: 'err', code: 'TOO_MANY_CONNECTIONS', message: `the node accepts ${limits.maxConnections} control connections at a time` }));
      return;
    }
    counts.connections++;
    counts.accepted++;
    sockets.add(socket);
    serveConnection(ctx, socket, limits, counts, () => sampler.rate);
    socket.once('close', () => {
      counts.connections--;
      sockets.delete(socket);
    });
  });
  const umask = process.umask(0o177); // created 0600, not chmod'ed after a window
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => res());
    });
  } catch (e) {
    clearInterval(sampler.timer);
    return off(errorMessage(e));
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  served.add(path);
  ctx.log.info({ path }, 'control socket listening');
  return {
    name: 'control-socket',
    path,
    status: () => ({ path, ...counts }),
    async stop() {
      clearInterval(sampler.timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
      served.delete(path);
      rmSync(path, { force: true });
    },
  };
}

function serveConnection(ctx: NodeContext, socket: Socket, limits: ControlSocketLimits, counts: { badFrames: number; slowClosed: number }, rate: () => number): void {
  const reader = new FrameReader(limits.maxFrameBytes);
  const subs = new Map<number, Subscription>();
  let requests = 0;
  let open = true;
  const send = (f: Frame) => {
    if (!open) return;
    socket.write(encodeFrame(f));
    if (socket.writableLength > limits.maxOutboundBytes) {
      counts.slowClosed++;
      close('SLOW_CONSUMER', `more than ${limits.maxOutboundBytes} bytes queued to this client`);
    }
  };
  const close = (code: string, message: string) => {
    if (!open) return;
    socket.end(encodeFrame({ op: 'err', code, message }));
    open = false;
    cleanup();
  };
  const cleanup = () => {
    open = false;
    for (const s of subs.values()) s.unsubscribe();
    subs.clear();
  };
  socket.on('error', () => socket.destroy());
  socket.on('close', cleanup);
  send({ op: 'hello', node: ctx.id, prefix: ctx.config.prefix, shards: ctx.config.actors.shards, maxFrame: limits.maxFrameBytes });

  const handle = (f: Frame) => {
    const id = typeof f.id === 'number' ? f.id : undefined;
    const fail = (e: unknown) =>
      send({ op: 'err', ...(id !== undefined ? { id } : {}), code: (e as GatehouseError).code ?? 'INTERNAL', message: errorMessage(e), s: f.s });
    try {
      switch (f.op) {
        case 'pub':
          ctx.bus.publish(str(f, 's')!, bytes(f, 'd'), { reply: str(f, 'r', true), headers: headers(f) });
          return;
        case 'sub': {
          const sid = int(f, 'id');
          if (subs.has(sid)) throw new GatehouseError(BAD_FRAME, `sub frame: subscription ${sid} exists`);
          if (subs.size >= limits.maxSubscriptions) throw new GatehouseError('LIMIT', `at most ${limits.maxSubscriptions} subscriptions per control connection`);
          const sub = ctx.bus.subscribe(str(f, 's')!, (m) => send({ op: 'msg', id: sid, s: m.subject, d: m.data, ...(m.reply ? { r: m.reply } : {}), ...(m.headers ? { h: m.headers } : {}) }), { queue: str(f, 'q', true) });
          subs.set(sid, sub);
          return;
        }
        case 'unsub': {
          const sid = int(f, 'id');
          subs.get(sid)?.unsubscribe();
          subs.delete(sid);
          return;
        }
        case 'req': {
          int(f, 'id');
          if (requests >= limits.maxRequests) throw new GatehouseError('LIMIT', `at most ${limits.maxRequests} requests in flight per control connection`);
          const t = Math.min(Math.max(int(f, 't'), 1), limits.maxRequestMs);
          requests++;
          ctx.bus.request(str(f, 's')!, bytes(f, 'd'), { timeoutMs: t, headers: headers(f) }).then(
            (m) => send({ op: 'res', id, s: m.subject, d: m.data, ...(m.headers ? { h: m.headers } : {}) }),
            fail,
          ).finally(() => requests--);
          return;
        }
        case 'flush':
          int(f, 'id');
          ctx.bus.flush().then(() => send({ op: 'ok', id }), fail);
          return;
        case 'status':
          int(f, 'id');
          statusOf(ctx, rate()).then((v) => send({ op: 'ok', id, v }), fail);
          return;
        default:
          throw new GatehouseError(BAD_FRAME, `unknown op ${JSON.stringify(f.op).slice(0, 40)}`);
      }
    } catch (e) {
      fail(e);
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (!open) return;
    let frames: Frame[];
    try {
      frames = reader.push(chunk);
    } catch (e) {
      counts.badFrames++;
      close((e as GatehouseError).code ?? BAD_FRAME, errorMessage(e));
      return;
    }
    for (const f of frames) handle(f);
  });
}

const started = Date.now();

/** Messages processed per second, sampled every second as the cluster component does for its node record. */
function rateSampler(ctx: NodeContext): { rate: number; timer: NodeJS.Timeout } {
  let last = ctx.host.metrics.processed;
  let at = Date.now();
  const s = { rate: 0, timer: setInterval(() => {
    const now = Date.now();
    s.rate = ((ctx.host.metrics.processed - last) * 1000) / Math.max(1, now - at);
    last = ctx.host.metrics.processed;
    at = now;
  }, 1000) };
  s.timer.unref();
  return s;
}

/** What `gatehouse status` needs of an embedded node to print the table it prints for a cluster. */
export interface EmbeddedStatus extends Record<string, unknown> {
  node: string;
  roles: string[];
  capacity: number;
  pid: number;
  startedAt: number;
  msgsPerSec: number;
  /** Shards per sharded kind (the node owns them all) and those kinds. */
  shardsPerKind: number;
  kinds: string[];
  actors: { actors: number; shards: number };
  /**
   * With worker threads (`--threads`), the process's nodes cluster: the live nodes and who owns each kind's shards
   * (kind → node → count, from the leases), so the tool shows the threads' shards instead of a one-node cluster.
   */
  cluster?: { leader?: string; liveNodes: string[]; shardMap: Record<string, Record<string, number>> };
}

async function statusOf(ctx: NodeContext, msgsPerSec: number): Promise<EmbeddedStatus> {
  const s = ctx.status() as Record<string, unknown>;
  const c = s.cluster as { currentLeader?: string; liveNodes?: string[] } | undefined;
  let cluster: EmbeddedStatus['cluster'];
  if (c?.liveNodes) {
    const shardMap: Record<string, Record<string, number>> = {};
    for (const { key, value } of await (await ctx.store.bucket(BUCKETS.leases)).entries()) {
      const owner = decodeRecord<Lease>(value).o;
      const row = (shardMap[key.slice(0, key.lastIndexOf('.'))] ??= {});
      row[owner] = (row[owner] ?? 0) + 1;
    }
    cluster = { leader: c.currentLeader, liveNodes: c.liveNodes, shardMap };
  }
  const kinds = ctx.apps.flatMap((a) => a.kinds).filter((k) => k.placement !== 'pinned').map((k) => k.name);
  return {
    ...s,
    node: ctx.id,
    roles: ctx.config.node.roles,
    capacity: ctx.config.node.capacity,
    pid: process.pid,
    startedAt: started,
    msgsPerSec: Math.round(msgsPerSec),
    shardsPerKind: ctx.config.actors.shards,
    kinds,
    actors: s.actors as EmbeddedStatus['actors'],
    ...(cluster && { cluster }),
  };
}
