/** Where benchmark files live, whether running from dist/bench/… (the normal case) or from the TypeScript sources. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The repository root: the nearest ancestor holding package.json. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the repository root (no package.json above the harness)');
    dir = up;
  }
  return (cached = dir);
}

/** bench/results/ under the repository root (committed result files live here). */
export const resultsDir = (): string => join(repoRoot(), 'bench', 'results');
