/**
 * The browser SDK, served without a bundler: `/sdk/gatehouse.js` re-exports the compiled ES module
 * dist/client/browser.js, and every module it imports (transitively) is served from dist/ under /sdk/. The one bare
 * import, `msgpackr`, is rewritten to msgpackr's own browser ES modules (its `browser` export, index.js), served
 * under /sdk/vendor/msgpackr/. Only files reachable from the SDK entry are served: nothing else of dist/ is exposed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SdkFiles {
  /** Module text for a path under /sdk/, or undefined when it is not part of the SDK. */
  read(path: string): Promise<string | undefined>;
}

const ENTRY = 'client/browser.js';
const VENDOR = 'vendor/msgpackr/';
const IMPORT_RE = /(\bfrom\s*|\bimport\s*)(['"])([^'"]+)\2/g;

function defaultDistRoot(): string {
  const up = dirname(dirname(fileURLToPath(import.meta.url)));
  // Running compiled (dist/gateway/…) the SDK sits next to us; running the TypeScript sources, under dist/.
  return existsSync(join(up, ENTRY)) ? up : join(up, 'dist');
}

function msgpackrRoot(): string {
  // `require` resolves msgpackr's CommonJS build (dist/node.cjs); its package root holds the browser ES modules.
  return dirname(dirname(createRequire(import.meta.url).resolve('msgpackr')));
}

export function createSdkFiles(opts: { distRoot?: string } = {}): SdkFiles {
  let files: Promise<Map<string, string>> | undefined;
  const load = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    await walk(opts.distRoot ?? defaultDistRoot(), ENTRY, out, (spec, from) => {
      if (spec === 'msgpackr') return { path: VENDOR + 'index.js', root: 'vendor' };
      if (!spec.startsWith('.')) throw new Error(`SDK module ${from} imports ${spec}: only relative imports and msgpackr are served`);
      return { path: posix.join(posix.dirname(from), spec), root: from.startsWith(VENDOR) ? 'vendor' : 'dist' };
    });
    out.set('gatehouse.js', `export * from './${ENTRY}';\n`);
    return out;
  };
  return {
    async read(path) {
      files ??= load().catch((err: unknown) => {
        files = undefined; // e.g. dist/ not built yet: try again on the next request
        throw err;
      });
      return (await files).get(path);
    },
  };
}

type Resolve = (spec: string, from: string) => { path: string; root: 'dist' | 'vendor' };

async function walk(distRoot: string, entry: string, out: Map<string, string>, resolve: Resolve): Promise<void> {
  const vendorRoot = msgpackrRoot();
  const queue: string[] = [entry];
  while (queue.length) {
    const rel = queue.shift()!;
    if (out.has(rel)) continue;
    const file = rel.startsWith(VENDOR) ? join(vendorRoot, rel.slice(VENDOR.length)) : join(distRoot, rel);
    const source = (await readFile(file, 'utf8')).replace(/^\/\/# sourceMappingURL=.*$/m, '');
    const text = source.replace(IMPORT_RE, (all, kw: string, q: string, spec: string) => {
      const target = resolve(spec, rel);
      queue.push(target.path);
      if (spec !== 'msgpackr') return all;
      let r = posix.relative(posix.dirname(rel), target.path);
      if (!r.startsWith('.')) r = './' + r;
      return `${kw}${q}${r}${q}`;
    });
    out.set(rel, text);
  }
}
