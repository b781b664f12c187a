/**
 * The peer frameworks bench chat compares against (Colyseus 0.18 server and SDK, Pomelo 2.2.7) live in their own
 * package, bench/peers/, not in the root one: Colyseus 0.18 declares Node >= 22 and the root must install on Node 20
 * without engine warnings, and no test or product code needs them. They are installed on demand (`npm ci --prefix
 * bench/peers`, with its own lock file) the first time a run needs them, and loaded from there with createRequire
 * (their CommonJS builds), so nothing here resolves them from the root node_modules.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../harness/paths.js';

export const peersDir = (): string => join(repoRoot(), 'bench', 'peers');
/** Where Pomelo's own processes look for `pomelo` (NODE_PATH: they are CommonJS and start from bench/chat/pomelo). */
export const peersModules = (): string => join(peersDir(), 'node_modules');

/** Installs bench/peers from its lock file unless already there. Idempotent; throws with npm's output on failure. */
export function ensurePeers(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): void {
  if (existsSync(join(peersModules(), '.package-lock.json'))) return;
  log('bench peers: installing Colyseus and Pomelo into bench/peers (npm ci --prefix bench/peers, once)');
  execFileSync('npm', ['ci', '--prefix', peersDir(), '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
}

/** require() rooted at bench/peers: resolves only what bench/peers/package.json installs. */
export function peerRequire<T>(id: string): T {
  return createRequire(join(peersDir(), 'package.json'))(id) as T;
}
