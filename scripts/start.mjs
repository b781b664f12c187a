// `npm start`: installs dependencies if needed, compiles, then runs `gatehouse start` (embedded mode by default).
// Extra arguments go to the CLI, e.g. `npm start -- --nats nats://127.0.0.1:4222`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, ensureDeps, ensureBuild } from './setup.mjs';

ensureDeps();
ensureBuild('production');
const child = spawn(process.execPath, [join(root, 'dist', 'bin', 'gatehouse.js'), 'start', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
