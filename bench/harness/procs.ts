/**
 * Parent side of benchmark peers: load generators and servers run as separate Node processes (child_process.fork of
 * compiled dist/ files, so they start in ~100 ms), coordinated over the IPC channel with the tiny protocol in
 * peer-protocol.ts. Every peer is bounded: at most MAX_PEERS alive, each killed by PID when its lifetime runs out,
 * when the benchmark calls stop()/kill() in its `finally`, and when the benchmark process exits for any reason
 * (including Ctrl-C and the hard deadline).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.js';
import { ENV_LIFETIME, ENV_NAME, type FromPeer, type PeerResult } from './peer-protocol.js';

export const MAX_PEERS = 16;
const DEFAULT_LIFETIME_MS = 150_000;

const live = new Set<ChildProcess>();
let hooked = false;

function killAllNow(): void {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

export interface PeerOptions {
  /** Shown in errors and tables; also the peer's GH_PEER_NAME. */
  name: string;
  args?: string[];
  env?: Record<string, string>;
  /** Hard cap on the peer's life; the parent SIGKILLs it and the peer exits by itself after this. */
  lifetimeMs?: number;
  readyTimeoutMs?: number;
  execArgv?: string[];
}

export interface Peer {
  readonly name: string;
  readonly pid: number;
  /** What the peer sent with `ready` (e.g. the subject it listens on). */
  readonly info: Record<string, unknown>;
  /** Sends a command and resolves with the peer's result (which always carries `cpuTotal`, its CPU seconds so far). */
  call<T extends object = Record<string, unknown>>(
    type: string,
    args?: object,
    timeoutMs?: number,
  ): Promise<PeerResult<T>>;
  /** Asks the peer to close and exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL by PID. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

function exitedPromise(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

/**
 * Profiling without touching a benchmark: BENCH_CPU_PROF=<regex on peer names> starts matching peers with
 * `--cpu-prof`, writing .cpuprofile files to .tmp/prof/ (git-ignored) when they exit.
 */
function profArgv(name: string): string[] {
  const re = process.env.BENCH_CPU_PROF;
  if (!re || !new RegExp(re).test(name)) return [];
  const dir = join(repoRoot(), '.tmp', 'prof');
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`];
}

export async function startPeer(script: string | URL, o: PeerOptions): Promise<Peer> {
  installExitHook();
  if (live.size >= MAX_PEERS) {
    throw new Error(`startPeer ${o.name}: already ${live.size} peers alive (max ${MAX_PEERS})`);
  }
  const file = script instanceof URL ? fileURLToPath(script) : script;
  const lifetimeMs = o.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  const child = fork(file, o.args ?? [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...(o.execArgv ?? []), ...profArgv(o.name)],
    env: { ...process.env, ...o.env, [ENV_NAME]: o.name, [ENV_LIFETIME]: String(lifetimeMs) },
  });
  live.add(child);
  let exited = false;
  const lifetime = setTimeout(() => child.kill('SIGKILL'), lifetimeMs + 2000);
  lifetime.unref();

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let readyResolve!: (info: Record<string, unknown>) => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<Record<string, unknown>>((res, rej) => ((readyResolve = res), (readyReject = rej)));

  child.on('message', (m: FromPeer) => {
    if (m.type === 'ready') readyResolve(m);
    else if (m.type === 'result' || m.type === 'error') {
      const p = pending.get(m.id ?? -1);
      if (!p) {
        if (m.type === 'error') process.stderr.write(`peer ${o.name}: ${m.message}\n`);
        return;
      }
      pending.delete(m.id!);
      clearTimeout(p.timer);
      if (m.type === 'result') p.resolve(m as never);
      else p.reject(new Error(`peer ${o.name}: ${m.message}`));
    }
  });
  child.once('exit', (code, signal) => {
    exited = true;
    live.delete(child);
    clearTimeout(lifetime);
    const err = new Error(`peer ${o.name} (pid ${child.pid}) exited (${signal ?? code})`);
    readyReject(err);
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  });
  child.once('error', (e) => readyReject(e));

  const readyMs = o.readyTimeoutMs ?? 15_000;
  const readyTimer = setTimeout(() => readyReject(new Error(`peer ${o.name}: not ready after ${readyMs} ms`)), readyMs);
  let info: Record<string, unknown>;
  try {
    info = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(readyTimer);
  }

  const peer: Peer = {
    name: o.name,
    pid: child.pid!,
    info,
    get exited() {
      return exited;
    },
    call(type, args = {}, timeoutMs = 30_000) {
      if (exited) return Promise.reject(new Error(`peer ${o.name} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`peer ${o.name}: '${type}' got no result in ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: never) => void, reject, timer });
        child.send({ ...args, type, id });
      });
    },
    async stop(graceMs = 3000) {
      if (exited) return;
      try {
        child.send({ type: 'exit', id: 0 });
      } catch {
        /* channel already closed */
      }
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise(child);
      clearTimeout(t);
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await exitedPromise(child);
    },
  };
  return peer;
}

/** Stops peers in parallel; for `finally` blocks, so it never throws. */
export async function stopAll(peers: readonly (Peer | undefined)[]): Promise<void> {
  await Promise.allSettled(peers.map((p) => p?.stop()));
}
