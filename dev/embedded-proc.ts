/**
 * `gatehouse start` as a real child process on an LMDB data directory of its own (tests and benchmarks): free ports,
 * the directory given, and the addresses its banner prints. Stopped by PID (dev/procs.ts).
 */
import { runCli, type Proc } from './procs.js';

export const FREE_PORT_FLAGS = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort']
  .flatMap((p) => ['--set', `gateway.${p}=0`])
  .concat(['--set', 'metrics.port=0']);

export interface EmbeddedProc {
  readonly proc: Proc;
  /** From the banner: e.g. urls['native ws'] (whatever names the gateway prints) → ws://127.0.0.1:PORT. */
  readonly urls: Record<string, string>;
}

export async function startEmbeddedProcess(o: { dir: string; extra?: string[]; timeoutMs?: number }): Promise<EmbeddedProc> {
  const proc = runCli(['start', '--data', o.dir, '--set', 'store.kind=lmdb', ...FREE_PORT_FLAGS, ...(o.extra ?? [])]);
  try {
    await proc.waitFor(/stop with Ctrl-C/, o.timeoutMs ?? 30_000);
  } catch (e) {
    await proc.kill('SIGKILL');
    throw new Error(`gatehouse start on ${o.dir} did not come up: ${(e as Error).message}\n${proc.output()}`);
  }
  const urls: Record<string, string> = {};
  for (const m of proc.output().matchAll(/^ {4}(\S.*?)\s+((?:ws|wss|tcp|http):\/\/\S+)$/gm)) urls[m[1]!.trim()] = m[2]!;
  return { proc, urls };
}

/**
 * Runs a CLI command against the embedded node on `dir` (`--data dir`) and waits for it: its exit code and output. Each
 * process is added to `procs`, for the caller's teardown to kill.
 */
export async function cliOnData(dir: string, procs: Proc[], args: string[]): Promise<{ code: number | null; out: string }> {
  const p = runCli([...args, '--data', dir]);
  procs.push(p);
  const code = await p.exited;
  return { code, out: p.output() };
}
