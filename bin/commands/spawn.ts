/**
 * `gatehouse spawn --count K [node flags]`: starts K extra local node processes with the same flags and supervises
 * them in the foreground (Ctrl-C stops them all). Each gets its own node id and its own metrics port (the ones after
 * this configuration's: config/ports.ts). A child that exits is reported at once: when, with which code or signal,
 * and its last lines of output, so a node that dies at start does not just vanish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/schema.js';
import { resolveLogFormat } from '../../common/logger.js';
import { configArgs, type Opts } from '../cli-args.js';

/** Lines of a child's output kept to explain its exit. */
const LAST_LINES = 12;

/** Forwards a child's output line by line (so children's lines do not interleave mid-line) and keeps the last few. */
function relay(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream, last: string[]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      out.write(l + '\n');
      last.push(l);
    }
    if (last.length > LAST_LINES) last.splice(0, last.length - LAST_LINES);
  });
  stream.on('end', () => {
    if (partial) {
      out.write(partial + '\n');
      last.push(partial);
    }
  });
}

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

export async function spawnNodes(count: number, opts: Opts, config: Config): Promise<void> {
  const entry = fileURLToPath(new URL('../gatehouse.js', import.meta.url));
  const base = configArgs(opts, ['count', 'nodeId']);
  // Children write to a pipe: they would log JSON. Whatever this terminal gets, they get.
  if (opts.logFormat === undefined) base.push('--log-format', resolveLogFormat(config.log));
  const perChild = 1 + config.node.threads;
  let stopping = false;
  const children: ChildProcess[] = [];
  const exits: Array<Promise<number>> = [];
  for (let i = 0; i < count; i++) {
    const args = [...base];
    if (typeof opts.nodeId === 'string') args.push('--node-id', `${opts.nodeId}-${i + 1}`);
    if (config.metrics.port !== 0) args.push('--set', `metrics.port=${config.metrics.port + i * perChild}`);
    const started = Date.now();
    // With this process's node flags (e.g. --single-threaded-gc, docs/OPERATIONS.md), as cluster.fork gives its own.
    const child = spawn(process.execPath, [...process.execArgv, entry, 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const last: string[] = [];
    relay(child.stdout!, process.stdout, last);
    relay(child.stderr!, process.stderr, last);
    children.push(child);
    process.stderr.write(`spawned node process ${i + 1}/${count}: pid ${child.pid}\n`);
    exits.push(
      new Promise<number>((resolve) =>
        child.once('close', (code, signal) => {
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          const expected = stopping && (code === 0 || signal === 'SIGTERM');
          const what = `node process ${i + 1}/${count} (pid ${child.pid}) ${exitReason(code, signal)} after ${secs} s at ${new Date().toISOString()}`;
          if (expected) process.stderr.write(`${what}\n`);
          else {
            const why = code === 0 ? 'it was drained or stopped' : stopping ? 'while stopping' : 'unexpectedly';
            const tail = last.length ? `; its last lines:\n${last.map((l) => `    ${l}`).join('\n')}` : '; it printed nothing';
            process.stderr.write(`${what} (${why})${code === 0 ? '' : tail}\n`);
          }
          resolve(code ?? 1);
        }),
      ),
    );
  }
  const stopAll = (sig: NodeJS.Signals) => {
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
  };
  process.once('SIGINT', () => stopAll('SIGTERM'));
  process.once('SIGTERM', () => stopAll('SIGTERM'));
  const codes = await Promise.all(exits);
  const live = codes.filter((c) => c === 0).length;
  process.stderr.write(`all ${count} node processes have exited (${live} cleanly)\n`);
  process.exitCode = codes.every((c) => c === 0) ? 0 : 1;
}
