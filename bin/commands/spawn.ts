/**
 * `gatehouse spawn --count K [node flags]`: starts K extra local node processes with the same flags and supervises
 * them in the foreground (Ctrl-C stops them all). Each gets its own node id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function spawnNodes(count: number, nodeArgs: string[]): Promise<void> {
  const entry = fileURLToPath(new URL('../gatehouse.js', import.meta.url));
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [entry, 'node', ...nodeArgs], { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    process.stderr.write(`spawned node process pid ${child.pid}\n`);
  }
  const stopAll = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null) c.kill(sig);
  };
  process.once('SIGINT', () => stopAll('SIGTERM'));
  process.once('SIGTERM', () => stopAll('SIGTERM'));
  const codes = await Promise.all(children.map((c) => new Promise<number>((r) => c.once('exit', (code) => r(code ?? 1)))));
  process.exitCode = codes.every((c) => c === 0) ? 0 : 1;
}
