/**
 * Gatehouse CLI processes for tests and benchmarks (compiled dist/, loopback only). Each is killed by PID at teardown
 * and on process exit; output is kept (last 20 kB) for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { basename, join, dirname } from 'node:path';
import { TEST_STORE_ENV } from './test-config.js';

/** The repository root, whether this file runs from dev/ (vitest, from the sources) or dist/dev/ (benchmarks). */
const up1 = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = basename(up1) === 'dist' ? dirname(up1) : up1;
export const CLI = join(ROOT, 'dist', 'bin', 'gatehouse.js');

const live = new Set<ChildProcess>();
let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export interface Proc {
  readonly pid: number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first output line matching `re` (rejects if the process exits first or after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function runCli(args: string[], opts: { env?: Record<string, string> } = {}): Proc {
  hook();
  // GH_CHILD_NODE_ARGS: extra node flags for the gatehouse processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // to see where a benchmark's server time goes (node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = process.env.GH_CHILD_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...TEST_STORE_ENV, ...opts.env },
    cwd: ROOT,
  });
  live.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      for (const l of listeners) l();
      resolve(code);
    });
  });
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = out.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Flags that make a test cluster react in fractions of a second. */
export function fastClusterFlags(shards = 16): string[] {
  return [
    '--set', 'cluster.heartbeatMs=100',
    '--set', 'cluster.deadAfterMs=1500',
    '--set', 'cluster.rebalanceIntervalMs=200',
    '--set', 'cluster.maxConcurrentMoves=256',
    '--set', `actors.shards=${shards}`,
    '--set', 'actors.lifecycleEvents=true',
    '--set', 'metrics.port=0',
    '--log-level', 'warn',
  ];
}

/** Only the demo app (counter, ledger, tally): cluster tests place fewer shards and start faster. */
export const DEMO_ONLY = ['--set', 'node.builtinApps=demo'];

/** Starts `gatehouse node` and waits until it says it is running. */
export async function startNodeProcess(o: { natsUrl: string; prefix: string; id: string; roles?: string; threads?: number; extra?: string[] }): Promise<Proc> {
  const args = ['node', '--nats', o.natsUrl, '--prefix', o.prefix, '--node-id', o.id, '--roles', o.roles ?? 'worker', ...fastClusterFlags(), ...(o.extra ?? [])];
  if (o.threads) args.push('--threads', String(o.threads));
  const p = runCli(args);
  await p.waitFor(/is running/, 60_000);
  return p;
}
