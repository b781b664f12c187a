// `npm run cli -- <command> ...`: the gatehouse CLI from a source checkout (compiles first when needed).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, ensureDeps, ensureBuild } from './setup.mjs';

ensureDeps();
ensureBuild('production');
const child = spawn(process.execPath, [join(root, 'dist', 'bin', 'gatehouse.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
