/**
 * Starts real nats-server processes for tests and benchmarks: loopback only, random ports, a private store dir each,
 * JetStream on. Every start registers its PID so that it is killed when the test process exits for any reason; tests
 * also stop servers explicitly in their teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function natsServerBin(): string {
  return process.env.NATS_SERVER_BIN ?? 'nats-server';
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string;
  /** Graceful stop (SIGTERM, then SIGKILL after 5 s); removes its work dir (and the store dir unless it was given). */
  stop(): Promise<void>;
  /** `kill -9`: the crash case. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

export interface StartOptions {
  jetstream?: boolean;
  /** Extra config file text (nats-server config syntax), e.g. authorization blocks. */
  config?: string;
  /** Reuse a store dir (restart with data). */
  storeDir?: string;
  port?: number;
  serverName?: string;
  startTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `n` distinct free loopback ports: each is held open until all are picked, so the kernel cannot hand the same one out
 * twice (one port picked and closed at a time came back twice, and nats-server refused the cluster config with
 * "Duplicate route entry detected").
 */
export async function freePorts(n: number): Promise<number[]> {
  const held: Array<ReturnType<typeof createServer>> = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      srv.unref();
      held.push(srv);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          srv.on('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }
}

function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, p: ChildProcess, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (p.exitCode !== null || p.signalCode !== null) {
      throw new Error(`nats-server exited (${p.exitCode ?? p.signalCode}) before ${what}:\n${log()}`);
    }
    if (Date.now() > deadline) throw new Error(`nats-server: timed out waiting for ${what}:\n${log()}`);
    // Polling a file the server writes; there is no event to await for it.
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServerHandle> {
  installExitHook();
  const workDir = await mkdtemp(join(tmpdir(), 'gh-nats-'));
  const storeDir = opts.storeDir ?? join(workDir, 'js');
  const portsDir = join(workDir, 'ports');
  const confPath = join(workDir, 'server.conf');
  await mkdir(portsDir, { recursive: true });
  const lines = [
    `listen: "127.0.0.1:${opts.port ?? -1}"`,
    opts.serverName ? `server_name: "${opts.serverName}"` : '',
    opts.jetstream === false ? '' : `jetstream { store_dir: "${storeDir}" }`,
    opts.config ?? '',
  ];
  await writeFile(confPath, lines.filter(Boolean).join('\n') + '\n');
  const args = ['-c', confPath, '--ports_file_dir', portsDir];
  let output = '';
  const proc = spawn(natsServerBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.stdout!.on('data', (d) => (output = (output + d).slice(-8000)));
  proc.stderr!.on('data', (d) => (output = (output + d).slice(-8000)));
  proc.once('exit', () => live.delete(proc));
  const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));

  const url = await Promise.race([
    spawnError,
    waitFor(
      'its ports file',
      async () => {
        try {
          const files = (await readdir(portsDir)).filter((f) => f.endsWith('.ports'));
          if (files.length === 0) return undefined;
          const ports = JSON.parse(await readFile(join(portsDir, files[0]!), 'utf8')) as { nats: string[] };
          return ports.nats.find((u) => u.includes('127.0.0.1')) ?? ports.nats[0];
        } catch {
          return undefined;
        }
      },
      opts.startTimeoutMs ?? 15_000,
      proc,
      () => output,
    ),
  ]).catch(async (err) => {
    proc.kill('SIGKILL');
    await rm(workDir, { recursive: true, force: true });
    throw err;
  });
  const port = Number(new URL(url).port);

  let exited = false;
  proc.once('exit', () => (exited = true));
  return {
    url,
    port,
    pid: proc.pid!,
    storeDir,
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await waitExit(proc);
        clearTimeout(t);
      }
      await rm(workDir, { recursive: true, force: true });
    },
    async kill() {
      if (!exited) {
        proc.kill('SIGKILL');
        await waitExit(proc);
      }
    },
  };
}
