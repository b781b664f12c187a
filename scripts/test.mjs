// `npm test`: installs what the suite needs (npm deps, nats-server and chromium via apt-get when possible), compiles,
// runs vitest.
// Extra arguments go to vitest, e.g. `npm test -- test/contract`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, ensureDeps, ensureNatsServer, ensureBuild, ensureChromium, fail, SOURCE_DIRS } from './setup.mjs';
import { lockProblems } from './lock-check.mjs';

ensureDeps();
// What would make `npm ci` on a fresh machine fail, from the lock file alone (scripts/lock-check.mjs; a test cannot run
// npm ci): a lock missing another platform's optional package, or out of step with package.json.
const lock = lockProblems(root);
if (lock.missing.length || lock.outOfSync.length) {
  fail(`package-lock.json would make \`npm ci\` fail:\n  ${[...lock.missing, ...lock.outOfSync].slice(0, 20).join('\n  ')}\n  Regenerate it with \`npm install\` on a machine without omit-lockfile-registry-resolved, then commit it.`);
}
ensureNatsServer();
// The browser tests (test/e2e/*-browser.test.ts) drive this Chromium through playwright-core; they read CHROMIUM_BIN.
const chromium = ensureChromium();
ensureBuild();
// Import rules first (.dependency-cruiser.cjs: no file cycles, no import against the layer order): a few seconds, and
// a structural regression fails the run before the suite starts.
const deps = spawnSync(process.execPath, [join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...SOURCE_DIRS, 'test'], {
  stdio: 'inherit',
  cwd: root,
});
if (deps.status !== 0) fail('import rules broken (see above): fix the import, or move the code to the layer it belongs to (docs/ARCHITECTURE.md).');
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, CHROMIUM_BIN: chromium },
});
process.exit(r.status ?? 1);
