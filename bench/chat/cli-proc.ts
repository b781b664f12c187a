/**
 * `gatehouse start` / `gatehouse node` as benchmark processes (compiled dist/bin/gatehouse.js, loopback only), like
 * dev/procs.ts's runCli but with Node flags: BENCH_CPU_PROF=<regex> adds `--cpu-prof` for the processes
 * whose name it matches (Node refuses that flag in NODE_OPTIONS). Killed by PID when stopped and when the benchmark
 * exits; the last 20 kB of output is kept for error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from '../../dev/procs.js';
import { TEST_STORE_ENV } from '../../dev/test-config.js';

const live = new Set<ChildProcess>();
let hooked = false;

export interface CliProc {
  readonly name: string;
  readonly pid: number;
  /** The last 20 kB the process printed. */
  output(): string;
  /** Resolves with the first output line matching `re`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (a profiled process writes its profile on the way out), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

function profArgv(name: string): string[] {
  const re = process.env.BENCH_CPU_PROF;
  if (!re || !new RegExp(re).test(name)) return [];
  const dir = join(ROOT, '.tmp', 'prof');
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`];
}

/** `cli`: another build's bin/gatehouse.js, to compare two builds in one run (bench chat's `embedded-alt`). */
export function startCli(name: string, args: string[], cli = CLI): CliProc {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => live.forEach((p) => p.kill('SIGKILL')));
  }
  const child = spawn(process.execPath, [...profArgv(name), cli, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...TEST_STORE_ENV } });
  live.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      listeners.forEach((l) => l());
      resolve();
    }),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid!,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`${name}: no ${re} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        const check = () => {
          const line = out.split('\n').find((l) => re.test(l));
          if (line !== undefined) done(undefined, line);
          else if (gone()) done(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out}`));
        };
        const done = (err?: Error, line?: string) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve(line!);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
