/**
 * What every dev helper that starts a process needs from its output (dev/procs.ts, dev/hosts/host-procs.ts): the
 * last 20 kB it printed on stdout and stderr, for failure messages, and a wait for the first line matching a pattern
 * that fails at once when the process exits first.
 */
import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  output(): string;
  /** The exit, by code or signal; output listeners have been told before it resolves. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited (by any cause). */
  readonly gone: boolean;
  /** Resolves with the first output line matching `re` (rejects if the process exits first or after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

const KEEP_CHARS = 20_000;

/** `label` names the process in failure messages (e.g. `process`, `nats-server on h1`). */
export function watchOutput(child: ChildProcess, label: string): ChildOutput {
  let out = '';
  let gone = false;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out = (out + d.toString()).slice(-KEEP_CHARS);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('error', (err) => onData(Buffer.from(`spawn error: ${err.message}\n`)));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = true;
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  return {
    output: () => out,
    ended,
    get gone() {
      return gone;
    },
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = out.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (gone) {
            done();
            reject(new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${label}:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
