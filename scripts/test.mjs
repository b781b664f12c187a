// `npm test`: installs what the suite needs (npm deps, nats-server via apt-get when possible), compiles, runs vitest.
// Extra arguments go to vitest, e.g. `npm test -- test/contract`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, ensureDeps, ensureNatsServer, ensureBuild } from './setup.mjs';

ensureDeps();
ensureNatsServer();
ensureBuild();
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
