/**
 * Runs once before the suite: compiles the project with dev/ and bench/ (tsconfig.dev.json) to dist/ (incrementally)
 * because tests that start nodes as child processes or worker threads run the compiled JavaScript, exactly as
 * `npm start` does, and some load compiled dev tooling (dist/dev/echo-app.js) or benchmark peers (dist/bench/…).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): void {
  // For quick local runs of tests that start no processes; `npm test` and CI always build.
  if (process.env.GH_SKIP_BUILD === '1') return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.dev.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
