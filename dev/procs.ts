/**
 * Gatehouse CLI processes for tests and benchmarks (compiled dist/, loopback only). Each is killed by PID at teardown
 * and on process exit; output is kept (last 20 kB) for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { basename, join, dirname } from 'node:path';
import { watchOutput } from './child-output.js';
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
  /** Sends `signal` (SIGTERM by default), then SIGKILL if the process is still there after `graceMs` (10 s). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Proc {
  hook();
  // GH_CHILD_NODE_ARGS: extra node flags for the gatehouse processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // to see where a benchmark's server time goes (node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = [...(process.env.GH_CHILD_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []), ...(opts.nodeArgs ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...TEST_STORE_ENV, ...opts.env },
    cwd: ROOT,
  });
  live.add(child);
  const w = watchOutput(child, 'process');
  const exited = w.ended.then(({ code }) => {
    live.delete(child);
    return code;
  });
  return {
    pid: child.pid!,
    output: w.output,
    exited,
    waitFor: w.waitFor,
    async kill(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
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
