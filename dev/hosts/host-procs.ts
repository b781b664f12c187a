/**
 * Processes on test hosts: a nats-server cluster, gatehouse nodes and relays, each started inside a host (a network
 * namespace from dev/hosts/netns.ts, or the loopback host when namespaces cannot be made), killed by PID in teardown
 * and on process exit. Output is kept (last 20 kB) for failure messages.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchOutput } from '../child-output.js';
import { CLI, ROOT, type Proc } from '../procs.js';
import { natsServerBin } from '../nats-server.js';
import type { TestHost } from './netns.js';

/** The machine's own loopback as a host: for runs where namespaces cannot be made (no partitions then). */
export const LOOPBACK: TestHost = {
  name: 'loopback',
  ns: '',
  addr: '127.0.0.1',
  spawn: (cmd, args, opts = {}) =>
    spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])], env: opts.env ?? process.env, cwd: opts.cwd }),
};

const live = new Set<ChildProcess>();
let hooked = false;

export interface HostProc extends Proc {
  readonly host: TestHost;
  /** True once the process has exited (by any cause). */
  readonly gone: boolean;
  signal(sig: NodeJS.Signals): void;
}

/** Starts `cmd args` on `host`, tracked until it exits. */
export function runOn(host: TestHost, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): HostProc {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of live) p.kill('SIGKILL');
    });
  }
  const child = host.spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: ROOT });
  live.add(child);
  const w = watchOutput(child, `${cmd} on ${host.name}`);
  // HOSTS_LOG_DIR=dir keeps every process's whole output (dir/<host>-<pid>.log): the 20 kB kept in memory is often
  // all error stacks by the time a fault is over.
  const logDir = process.env.HOSTS_LOG_DIR;
  if (logDir) {
    const file = createWriteStream(join(logDir, `${host.name}-${child.pid}.log`));
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    void w.ended.then(() => file.end());
  }
  const exited = w.ended.then(({ code, signal }) => {
    live.delete(child);
    return code ?? (signal ? -1 : null);
  });
  return {
    host,
    pid: child.pid!,
    output: w.output,
    exited,
    get gone() {
      return w.gone;
    },
    signal(sig) {
      if (!w.gone) child.kill(sig);
    },
    waitFor: w.waitFor,
    async kill(sig = 'SIGTERM') {
      if (!w.gone) {
        child.kill('SIGCONT');
        child.kill(sig);
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A gatehouse node on a host (compiled dist/bin/gatehouse.js); resolves once it says it is running. */
export async function startNodeOn(host: TestHost, args: string[], timeoutMs = 60_000): Promise<HostProc> {
  const nodeArgs = process.env.GH_CHILD_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const p = runOn(host, process.execPath, [...nodeArgs, CLI, ...args]);
  await p.waitFor(/is running/, timeoutMs);
  return p;
}

/** A delaying relay process on `host` (dev/hosts/relay-main.ts, compiled). */
export async function startRelayOn(host: TestHost, listen: string, target: string, delayMs: number): Promise<HostProc> {
  const p = runOn(host, process.execPath, [join(ROOT, 'dist', 'dev', 'hosts', 'relay-main.js'), listen, target, String(delayMs)]);
  await p.waitFor(/relay listening/, 15_000);
  return p;
}

export interface HostNatsCluster {
  /** Client URL of server i, as seen from the test hosts. */
  url(i: number): string;
  /** server_name of server i (what JetStream names as a stream's leader). */
  name(i: number): string;
  readonly size: number;
  server(i: number): HostProc;
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One nats-server per entry of `places` (a host and its client and route ports), JetStream on, routes to all, and
 * `no_advertise` so clients keep the URLs they were given (a relay or tap URL) instead of learning servers' own.
 */
export async function startNatsOnHosts(places: Array<{ host: TestHost; port: number; routePort: number }>, name = 'ghc'): Promise<HostNatsCluster> {
  const root = mkdtempSync(join(tmpdir(), 'gh-hostnats-'));
  const routes = places.map((p) => `"nats-route://${p.host.addr}:${p.routePort}"`).join(', ');
  const servers: HostProc[] = [];
  const start = async (i: number) => {
    const p = places[i]!;
    const conf = join(root, `s${i}.conf`);
    writeFileSync(
      conf,
      [
        `listen: "${p.host.addr}:${p.port}"`,
        `server_name: "${name}-${i}"`,
        `jetstream { store_dir: "${join(root, `js${i}`)}" }`,
        // One server alone runs without a cluster block: with one, JetStream waits for peers that never come.
        places.length > 1 ? `cluster { name: "${name}", listen: "${p.host.addr}:${p.routePort}", routes: [${routes}], no_advertise: true }` : '',
      ].join('\n') + '\n',
    );
    const proc = runOn(p.host, natsServerBin(), ['-c', conf]);
    await proc.waitFor(/Server is ready/, 20_000);
    servers[i] = proc;
  };
  try {
    await Promise.all(places.map((_, i) => start(i)));
  } catch (err) {
    await Promise.all(servers.map((s) => s?.kill('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    size: places.length,
    url: (i) => `nats://${places[i]!.host.addr}:${places[i]!.port}`,
    name: (i) => `${name}-${i}`,
    server: (i) => servers[i]!,
    async kill(i) {
      await servers[i]!.kill('SIGKILL');
    },
    async restart(i) {
      if (!servers[i]!.gone) await servers[i]!.kill('SIGKILL');
      await start(i);
    },
    async stop() {
      await Promise.all(servers.map((s) => s.kill('SIGTERM')));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
