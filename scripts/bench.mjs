// `npm run bench -- <name>`: installs what benchmarks need (npm deps, nats-server), compiles to dist/, then runs
// dist/bench/<name>.bench.js (compiled JS, so the peers it forks start fast). Without a name, lists the benchmarks.
// Extra arguments go to the benchmark. Results land in bench/results/<name>.json.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, ensureDeps, ensureNatsServer, ensureBuild, natsVersion, fail } from './setup.mjs';

const SUFFIX = '.bench.ts';
const available = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith(SUFFIX))
  .map((f) => f.slice(0, -SUFFIX.length))
  .sort();
const [name, ...rest] = process.argv.slice(2);
const listing = available.length ? available.map((n) => `  npm run bench -- ${n}`).join('\n') : '  (none yet)';

if (!name || name === '--list') {
  process.stdout.write(`Benchmarks (bench/<name>.bench.ts):\n${listing}\n`);
  process.exit(0);
}
if (!available.includes(name)) fail(`unknown benchmark '${name}'. Available:\n${listing}`);

ensureDeps();
ensureNatsServer();
ensureBuild();
const script = join(root, 'dist', 'bench', `${name}.bench.js`);
if (!existsSync(script)) fail(`${script} is missing after the build (is bench/ in tsconfig.dev.json?)`);

const child = spawn(process.execPath, [script, ...rest], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NATS_SERVER_VERSION: natsVersion() },
});
// Ctrl-C reaches the whole process group; a SIGTERM aimed at this script alone is passed on so nothing is orphaned.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
