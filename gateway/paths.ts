/** Where the gateway finds files it serves, whether it runs compiled (dist/gateway/…) or from the TypeScript sources. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The repository (or installed package) root: the nearest ancestor holding package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('gateway: cannot find the package root (no package.json above gateway/)');
    dir = up;
  }
  return (root = dir);
}

/** Static pages (web/, served as they are). */
export const defaultWebRoot = (): string => join(packageRoot(), 'web');

/** The Markdown docs (docs/), served as text under /docs/ so the index page can link them. */
export const defaultDocsRoot = (): string => join(packageRoot(), 'docs');
