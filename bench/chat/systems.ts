/**
 * The servers bench chat compares, each started in its own process(es) on loopback and stopped by PID (process group
 * for Pomelo): gatehouse embedded (`gatehouse start`), gatehouse as 1 gateway + 2 workers on nats-server, the raw `ws`
 * baseline, Colyseus, and Pomelo stock and tuned. Each reports the CPU seconds of all its server-side processes.
 */
import { procCpuSeconds, sleep } from '../harness/measure.js';
import { startPeer, type Peer } from '../harness/procs.js';
import { startCli, type CliProc } from './cli-proc.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { readLeases, ownersOf, statusPageSettled } from '../../dev/cluster-watch.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { ROOM_KIND } from '../../chat/room.js';
import { startPomelo } from './pomelo-launcher.js';
import type { ClientKind } from './load-peer.js';

export interface ChatSystem {
  /** Row name in the table, e.g. `gatehouse embedded`. */
  readonly name: string;
  readonly kind: ClientKind;
  readonly url: string;
  /** Server-side processes, for the record. */
  readonly pids: number[];
  /** CPU seconds (user + system) of every server-side process so far. */
  cpu(): number;
  stop(): Promise<void>;
}

const SHARDS = 16;

/**
 * Settings for a benchmark: no per-connection request cap, and a 30 s ask timeout: a
 * 1000-member room fills through 1000 joins queued on one room actor, each announced to everyone already in (about
 * half a million pushes), which on a busy 2-core host outlasts the default 5 s (the same reason Colyseus gets a
 * longer seat reservation).
 */
function gatewayFlags(): string[] {
  return [
    '--set', 'actors.askTimeoutMs=30000',
    '--set', 'metrics.port=0',
    // A node starved of CPU for seconds by the fills above (and by the machine's other tenants) must not be declared
    // dead: its rooms would restart empty elsewhere (rooms are not persisted) and their silent members stop hearing
    // anything. The benchmark measures fan-out, not failure detection.
    '--set', 'cluster.deadAfterMs=30000',
    // gateway.sessionGraceMs stays at its default (30 s) on purpose: it is also how often every attached session
    // probes its connection and writes its snapshot to the store, a background load proportional to clients.
    ...['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]),
    '--set', 'gateway.requestsPerSecond=100000',
    '--set', 'gateway.requestBurst=100000',
    '--set', `actors.shards=${SHARDS}`,
    '--log-level', 'warn',
  ];
}

async function gatewayUrl(p: CliProc): Promise<string> {
  const line = await p.waitFor(/native ws\s+ws:\/\//, 60_000);
  return /(ws:\/\/\S+)/.exec(line)![1]!;
}

async function stopProcs(ps: CliProc[]): Promise<void> {
  await Promise.all(ps.map((p) => p.stop()));
  if (process.env.BENCH_CHAT_VERBOSE === '1') for (const p of ps) process.stderr.write(`--- ${p.name} output (tail) ---\n${p.output().slice(-3000)}\n`);
}

/**
 * `gatehouse start`, one process. With `alt`, another build's CLI (e.g. the commit before a change, built in a
 * separate work tree) runs beside this one in the same run: a change measured alone against its own before. With
 * `variant`, this build with that `actors.pushTickMs` (BENCH_CHAT_EMBEDDED_VARIANTS), named after it.
 */
export async function startEmbedded(alt?: { cli: string; label: string }, variant?: { pushTickMs: number }): Promise<ChatSystem> {
  const tick = variant ? `-tick${variant.pushTickMs}` : '';
  const extra = variant ? ['--set', `actors.pushTickMs=${variant.pushTickMs}`] : [];
  const prefix = alt ? 'bench-chat-emb-alt' : `bench-chat-emb${tick.replace('-tick-', '-tickm')}`;
  const p = startCli(alt ? 'gatehouse-embedded-alt' : `gatehouse-embedded${tick}`, ['start', '--prefix', prefix, ...gatewayFlags(), ...extra], alt?.cli);
  const url = await gatewayUrl(p).catch(async (err) => {
    await p.kill();
    throw err;
  });
  const name = alt ? `gatehouse embedded (${alt.label})` : variant ? `gatehouse embedded (pushTickMs ${variant.pushTickMs})` : 'gatehouse embedded';
  return { name, kind: 'gatehouse', url, pids: [p.pid], cpu: () => procCpuSeconds(p.pid), stop: () => stopProcs([p]) };
}

/**
 * `gatehouse start --threads N`: embedded mode on every core, one process, no NATS: the main thread keeps the gateway
 * and serves its bus and store to N worker-thread nodes (bus/thread/). Ready once the leader (the main node) has
 * assigned the shards to the threads. CPU is the whole process's, threads included.
 */
export async function startEmbeddedThreads(threads: number): Promise<ChatSystem> {
  const p = startCli('gatehouse-embedded-threads', ['start', '--prefix', 'bench-chat-embt', '--threads', String(threads), ...gatewayFlags()]);
  const url = await gatewayUrl(p)
    .then(async (u) => (await statusPageSettled(p.output(), threads + 1), u))
    .catch(async (err) => {
      await p.kill();
      throw err;
    });
  return { name: `gatehouse embedded, ${threads} threads`, kind: 'gatehouse', url, pids: [p.pid], cpu: () => procCpuSeconds(p.pid), stop: () => stopProcs([p]) };
}

export const NATS_SYSTEM = 'gatehouse 1 gw + 2 workers (NATS)';

/**
 * nats-server, two workers and one gateway (`gatehouse node`), ready once every room shard is owned on both workers.
 * With `pushTickMs`, every node runs with that `actors.pushTickMs` (push batching, actors/runtime/effect-sink.ts) and
 * the system is named after it, its processes suffixed `-tick<value>`: several variants side by side in one run
 * (BENCH_CHAT_NATS_VARIANTS), each on its own nats-server.
 */
export async function startNatsCluster(variant?: { pushTickMs: number }): Promise<ChatSystem> {
  const nats: NatsServerHandle = await startNatsServer();
  const tick = variant ? `tick${variant.pushTickMs}` : '';
  const prefix = variant ? `bench-chat-nats-${tick.replace('-', 'm')}` : 'bench-chat-nats';
  const extra = variant ? ['--set', `actors.pushTickMs=${variant.pushTickMs}`] : [];
  const procs: CliProc[] = [];
  const node = (id: string, roles: string) =>
    startCli(`gatehouse-${id}${tick ? `-${tick}` : ''}`, ['node', '--nats', nats.url, '--prefix', prefix, '--node-id', id, '--roles', roles, ...gatewayFlags(), '--set', 'cluster.rebalanceIntervalMs=500', ...extra]);
  try {
    procs.push(node('w1', 'worker'), node('w2', 'worker'), node('gw', 'gateway'));
    await Promise.all(procs.map((p) => p.waitFor(/is running/, 60_000)));
    const url = await gatewayUrl(procs[2]!);
    await roomsPlaced(nats.url, prefix);
    return {
      name: variant ? `${NATS_SYSTEM.slice(0, -1)}, pushTickMs ${variant.pushTickMs})` : NATS_SYSTEM,
      kind: 'gatehouse',
      url,
      pids: [...procs.map((p) => p.pid), nats.pid],
      cpu: () => procs.reduce((s, p) => s + procCpuSeconds(p.pid), procCpuSeconds(nats.pid)),
      stop: async () => {
        await stopProcs(procs);
        await nats.stop();
      },
    };
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    await nats.stop();
    throw err;
  }
}

async function roomsPlaced(natsUrl: string, prefix: string): Promise<void> {
  const bus = await createNatsBus({ prefix, servers: [natsUrl] });
  try {
    const store = createNatsStore({ connection: bus.connection, prefix });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const leases = await readLeases(store);
      const rooms = Array.from({ length: SHARDS }, (_, s) => leases.get(`${ROOM_KIND}.${s}`));
      const owners = ownersOf(leases);
      if (rooms.every((l) => l?.st === 'owned') && (owners.get('w1') ?? 0) > 0 && (owners.get('w2') ?? 0) > 0) return;
      if (Date.now() > deadline) throw new Error('chat-room shards not placed on both workers within 60 s');
      await sleep(200);
    }
  } finally {
    await bus.close();
  }
}

function peerSystem(p: Peer, name: string, kind: ClientKind): ChatSystem {
  return { name, kind, url: String(p.info.url), pids: [p.pid], cpu: () => procCpuSeconds(p.pid), stop: () => p.stop() };
}

export async function startRawWs(lifetimeMs: number): Promise<ChatSystem> {
  const p = await startPeer(new URL('./raw-ws-server.js', import.meta.url), { name: 'raw-ws', lifetimeMs, readyTimeoutMs: 60_000 });
  return peerSystem(p, 'raw ws broadcast', 'raw');
}

export async function startColyseus(lifetimeMs: number): Promise<ChatSystem> {
  const p = await startPeer(new URL('./colyseus-server.js', import.meta.url), { name: 'colyseus', lifetimeMs, readyTimeoutMs: 60_000 });
  return peerSystem(p, 'Colyseus 0.18', 'colyseus');
}

export async function startPomeloChat(tuned: boolean): Promise<ChatSystem> {
  const name = tuned ? 'Pomelo 2.2.7 tuned' : 'Pomelo 2.2.7 stock';
  const p = await startPomelo({ tuned, name });
  return { name, kind: tuned ? 'pomelo-tuned' : 'pomelo-stock', url: p.url, pids: [p.pgid], cpu: () => p.cpu(), stop: () => p.stop() };
}
