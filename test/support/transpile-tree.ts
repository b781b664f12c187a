/**
 * Worker threads cannot load TypeScript, and suites run with GH_SKIP_BUILD=1 must not depend on a built dist/: a
 * worker's script and the sources it imports are transpiled with the project's TypeScript (transpileModule: no type
 * check, tsc does that) into a directory under .tmp/ (git-ignored, inside the repo so packages resolve from its
 * node_modules). Used by test/integration/thread-bus.test.ts and thread-backpressure.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Transpiles `entry` and every relative module it imports, transitively, into `outRoot` at the same paths; returns the entry's output path. */
export function transpileTree(entry: string, outRoot: string): string {
  const todo = [entry];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const src = readFileSync(file, 'utf8');
    const js = ts.transpileModule(src, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    const to = join(outRoot, relative(ROOT, file).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, js);
    for (const m of src.matchAll(/['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      const dep = resolve(dirname(file), `${m[1]}.ts`);
      if (existsSync(dep)) todo.push(dep);
    }
  }
  return join(outRoot, relative(ROOT, entry).replace(/\.ts$/, '.js'));
}
