// `npm test`: installs what the suite needs (npm deps, nats-server and chromium via apt-get when possible), compiles,
// runs vitest.
// Extra arguments go to vitest, e.g. `npm test -- test/contract`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, ensureDeps, ensureNatsServer, ensureBuild, ensureChromium } from './setup.mjs';

ensureDeps();
ensureNatsServer();
// The browser tests (test/e2e/*-browser.test.ts) drive this Chromium through playwright-core; they read CHROMIUM_BIN.
const chromium = ensureChromium();
ensureBuild();
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, CHROMIUM_BIN: chromium },
});
process.exit(r.status ?? 1);
