// Shared set-up for `npm start`, `npm test` and `npm run bench`: a fresh clone needs its dependencies installed, the
// TypeScript compiled, and (for tests and benchmarks) nats-server present. Each step says what it does and how to do it
// by hand when it cannot.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function log(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

export function ensureDeps() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)) return;
  if (!existsSync(lock)) fail('package-lock.json is missing: a checkout has one; restore it (git checkout package-lock.json).');
  log('installing npm dependencies (npm ci; a minute or two the first time)…');
  // No fallback to `npm install`: the lock is complete (npm test checks it: scripts/lock-check.mjs), so a failing
  // `npm ci` is a real problem (network, registry) to be seen, not papered over with different versions. Its output is
  // kept and shown only when it fails: on success it is a blank line and a count, and a first start stays short.
  const t0 = Date.now();
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`npm ci failed (${r.error ? r.error.message : `exit ${r.status}`}; see above): check network access to the npm registry, then run \`npm ci\`.`);
  }
  const added = /added (\d+) packages?/.exec(r.stdout ?? '');
  log(`npm dependencies installed${added ? ` (${added[1]} packages)` : ''} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Folders of the production build (tsconfig.build.json, `npm run build`). */
export const PRODUCTION_DIRS = ['bin', 'bus', 'config', 'common', 'actors', 'protocol', 'gateway', 'cluster', 'node-api', 'server', 'lobby', 'chat', 'client'];
/** Every compiled folder: production plus dev tooling and benchmarks (tsconfig.dev.json). test/ runs from source. */
export const SOURCE_DIRS = [...PRODUCTION_DIRS, 'dev', 'bench'];

const BUILDS = {
  // Tests and benchmarks fork compiled dev/ and bench/ code (dist/dev/…, dist/bench/…) next to dist/bin/gatehouse.js.
  dev: { tsconfig: 'tsconfig.dev.json', stamp: '.tsbuildinfo-dev', dirs: SOURCE_DIRS },
  production: { tsconfig: 'tsconfig.build.json', stamp: '.tsbuildinfo', dirs: PRODUCTION_DIRS },
};

/** Compiles to dist/ when a source is newer than the last build of that kind ('dev' for tests and benchmarks). */
export function ensureBuild(kind = 'dev') {
  const { tsconfig, stamp, dirs } = BUILDS[kind];
  const stampPath = join(root, 'dist', stamp);
  const built = existsSync(stampPath) ? statSync(stampPath).mtimeMs : 0;
  const src = Math.max(...dirs.map((d) => newestMtime(join(root, d))));
  if (built >= src) return;
  log(`compiling TypeScript to dist/ (${tsconfig}) …`);
  if (!run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig])) {
    fail('TypeScript compilation failed (see errors above).');
  }
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function aptInstall(pkg) {
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && has('sudo') ? ['sudo', '-n'] : [];
  if (!has('apt-get') || (!isRoot && sudo.length === 0)) return false;
  const apt = (args) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return run(cmd, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  log(`installing ${pkg} with apt-get…`);
  if (apt(['install', '-y', '--no-install-recommends', pkg])) return true;
  log('apt-get install failed; refreshing package lists and trying once more…');
  return apt(['update']) && apt(['install', '-y', '--no-install-recommends', pkg]);
}

export function ensureNatsServer() {
  if (process.env.NATS_SERVER_BIN && existsSync(process.env.NATS_SERVER_BIN)) return;
  if (has('nats-server')) return;
  if (aptInstall('nats-server') && has('nats-server')) return;
  fail(
    'nats-server is not installed and could not be installed automatically.\n' +
      '  Install it with:  sudo apt-get install -y nats-server   (Debian/Ubuntu; version 2.9 or newer)\n' +
      '  or download it from https://github.com/nats-io/nats-server/releases and put it on PATH,\n' +
      '  or set NATS_SERVER_BIN=/path/to/nats-server.',
  );
}

export function ensureChromium() {
  if (process.env.CHROMIUM_BIN && existsSync(process.env.CHROMIUM_BIN)) return process.env.CHROMIUM_BIN;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  if (aptInstall('chromium') && existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  fail(
    'Chromium is needed for the browser tests and could not be installed automatically.\n' +
      '  Install it with:  sudo apt-get install -y chromium   or set CHROMIUM_BIN=/path/to/chromium.',
  );
}

export function fail(msg) {
  process.stderr.write(`\n[setup] ERROR: ${msg}\n`);
  process.exit(1);
}

export function natsVersion() {
  try {
    return execFileSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version']).toString().trim();
  } catch {
    return 'unknown';
  }
}
