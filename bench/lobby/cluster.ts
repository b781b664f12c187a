/**
 * bench lobby's server side, in one of two shapes (BENCH_LOBBY_SYSTEM):
 *   nats     (default) nats-server with JetStream, two worker processes and one gateway process (`gatehouse node`):
 *            the deployment the lobby's targets are set for.
 *   threads  one process, `gatehouse start --threads 2 --roles gateway --data DIR`: the gateway on the main thread,
 *            two worker nodes in worker threads, meeting over the in-process thread bus with the LMDB store (the
 *            embedded default). The same lobby and bots with no process hop between gateway and workers: what the
 *            hops of the NATS shape cost, measured beside it.
 * Either way the bench reads the server's CPU per part (gateway, workers, nats-server; threads: the one process is
 * all under `gateway`), its read/write syscalls, and gets the native ws URL the bots connect to.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { K } from '../../lobby/tree.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../../dev/procs.js';
import { startEmbeddedProcess } from '../../dev/embedded-proc.js';
import { ownersOf, readLeases, statusPageSettled } from '../../dev/cluster-watch.js';
import { eventually } from '../../dev/wait.js';
import { procCpuSeconds } from '../harness/measure.js';

export type LobbySystem = 'nats' | 'threads';
type NatsBus = Awaited<ReturnType<typeof createNatsBus>>;
export interface CpuParts {
  gateway: number;
  workers: number;
  nats: number;
}
interface Io {
  r: number;
  w: number;
}
export interface IoParts {
  gateway: Io;
  workers: Io;
  nats: Io;
}

export interface LobbyCluster {
  readonly system: LobbySystem;
  /** How the table names the server side. */
  readonly label: string;
  /** The gateway's native ws URL. */
  readonly url: string;
  /** A client on the cluster's NATS (nats only: subject counts, the search population put into the index). */
  readonly bus: NatsBus | undefined;
  readonly procs: readonly Proc[];
  cpuParts(): CpuParts;
  ioParts(): IoParts;
  /** Stops everything it started (SIGTERM, SIGKILL after 10 s), also after a failed start. */
  stop(): Promise<void>;
}

export interface LobbyClusterOptions {
  prefix: string;
  /** `--set` flags for every node. */
  flags: string[];
  /** `--set` flags for the gateway node. */
  gatewayFlags: string[];
  log: (s: string) => void;
}

/** Read and write syscalls so far (/proc/<pid>/io): what the hops of a message cost in the kernel. */
function sysIo(pid: number): Io {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr: (\d+)/.exec(t)?.[1]), w: Number(/syscw: (\d+)/.exec(t)?.[1]) };
  } catch {
    return { r: NaN, w: NaN };
  }
}

export function lobbySystemFromEnv(): LobbySystem {
  const s = process.env.BENCH_LOBBY_SYSTEM ?? 'nats';
  if (s !== 'nats' && s !== 'threads') throw new Error(`BENCH_LOBBY_SYSTEM must be nats or threads, not ${JSON.stringify(s)}`);
  return s;
}

export function startLobbyCluster(system: LobbySystem, o: LobbyClusterOptions): Promise<LobbyCluster> {
  return system === 'threads' ? startThreads(o) : startNats(o);
}

async function startNats(o: LobbyClusterOptions): Promise<LobbyCluster> {
  const procs: Proc[] = [];
  let nats: NatsServerHandle | undefined;
  let bus: NatsBus | undefined;
  const stop = async () => {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await bus?.close().catch(() => undefined);
    await nats?.stop();
  };
  try {
    nats = await startNatsServer();
    const natsUrl = nats.url;
    o.log(`nats-server ${natsUrl} (pid ${nats.pid}), prefix ${o.prefix}`);
    const node = (id: string, roles: string, extra: string[]) =>
      startNodeProcess({ natsUrl, prefix: o.prefix, id, roles, extra }).then((p) => (procs.push(p), p));
    const [w1, w2, g1] = await Promise.all([node('w1', 'worker', o.flags), node('w2', 'worker', o.flags), node('g1', 'gateway', [...o.flags, ...o.gatewayFlags])]);
    const url = /(ws:\/\/\S+)/.exec(await g1!.waitFor(/native ws\s+ws:\/\//))![1]!;
    bus = await createNatsBus({ prefix: o.prefix, servers: [natsUrl] });
    const store = createNatsStore({ connection: bus.connection, prefix: o.prefix });
    let last = '';
    let since = Date.now();
    await eventually(
      async () => {
        const leases = await readLeases(store);
        const map = JSON.stringify([...leases].map(([k, l]) => `${k}=${l.o}/${l.st}`).sort());
        if (map !== last) [last, since] = [map, Date.now()];
        const owners = ownersOf(leases);
        return Object.values(K).every((k) => leases.get(`${k}.0`)?.st === 'owned') && owners.has('w1') && owners.has('w2') && Date.now() - since > 3000;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'lobby shards owned by w1 and w2, settled' },
    );
    const pids = { gateway: g1!.pid, workers: [w1!.pid, w2!.pid], nats: nats.pid };
    return {
      system: 'nats',
      label: '1 gateway, 2 workers, nats-server',
      url,
      bus,
      procs,
      cpuParts: () => ({ gateway: procCpuSeconds(pids.gateway), workers: pids.workers.reduce((s, p) => s + procCpuSeconds(p), 0), nats: procCpuSeconds(pids.nats) }),
      ioParts: () => ({ gateway: sysIo(pids.gateway), workers: pids.workers.map(sysIo).reduce((a, b) => ({ r: a.r + b.r, w: a.w + b.w })), nats: sysIo(pids.nats) }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startThreads(o: LobbyClusterOptions): Promise<LobbyCluster> {
  const data = mkdtempSync(join(tmpdir(), 'gh-bench-lobby-'));
  let p: Proc | undefined;
  const stop = async () => {
    // Longer than the NATS shape's 10 s before SIGKILL: the process gives a thread node up to 10 s to stop before it
    // terminates it (bin/commands/threads.ts), and only then exits and writes its CPU profiles (GH_CHILD_NODE_ARGS).
    const t0 = Date.now();
    await p?.kill('SIGTERM', 60_000);
    const secs = (Date.now() - t0) / 1000;
    // A slow stop says why in the process's own last lines (its nodes log the step they wait on: server/stop-watch.ts).
    if (p && secs > 5) o.log(`the threads process took ${secs.toFixed(1)} s to stop; its last lines:\n${p.output().split('\n').slice(-15).join('\n')}`);
    else if (p) o.log(`the threads process stopped in ${secs.toFixed(2)} s`);
    rmSync(data, { recursive: true, force: true });
  };
  try {
    const started = await startEmbeddedProcess({ dir: data, timeoutMs: 120_000, extra: ['--threads', '2', '--roles', 'gateway', '--prefix', o.prefix, ...o.flags, ...o.gatewayFlags] });
    p = started.proc;
    const url = started.urls['native ws'];
    if (!url) throw new Error(`no native ws address in the banner:\n${p.output()}`);
    // The main node and the two threads' nodes live, every shard placed on the threads and settled, as the NATS shape
    // waits for its leases.
    await statusPageSettled(p.output(), 3, 120_000);
    const pid = p.pid;
    return {
      system: 'threads',
      label: 'one process: gateway + 2 worker threads, LMDB',
      url,
      bus: undefined,
      procs: [p],
      cpuParts: () => ({ gateway: procCpuSeconds(pid), workers: 0, nats: 0 }),
      ioParts: () => ({ gateway: sysIo(pid), workers: { r: 0, w: 0 }, nats: { r: 0, w: 0 } }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
