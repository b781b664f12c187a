/**
 * `gatehouse init DIR`: a new app from templates/app (one actor kind, one route, one test) that runs with `npm start`
 * and `npm test` inside DIR. It depends on this checkout by a relative import (DIR/gatehouse.js re-exports the compiled
 * server/app-kit.js) and the checkout's CLI: nothing to install, so it works offline and never fetches a second copy
 * of gatehouse whose xstate or runtime would differ from the node that runs the app.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { GatehouseError } from '../../common/errors.js';
import { withExamples } from '../cli-kit.js';

/** Template file → name in the new app (npm would drop a file named .gitignore from a package, hence the rename). */
const RENAMES: Record<string, string> = { 'gitignore.template': '.gitignore' };

/** The checkout root: the nearest directory up from this file with templates/app (bin/commands, or dist/bin/commands). */
export function checkoutRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'templates', 'app', 'app.js'))) return dir;
    if (dirname(dir) === dir) throw new GatehouseError('USAGE', `no templates/app found above ${from}: run init from a gatehouse checkout`);
  }
}

/** An import specifier or script path from `from` to `to`, with forward slashes and a leading ./ or ../. */
function relativePath(from: string, to: string): string {
  const rel = relative(from, to).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

export interface InitResult {
  dir: string;
  files: string[];
}

export function initApp(target: string, root = checkoutRoot()): InitResult {
  const dir = resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new GatehouseError('USAGE', `${dir} exists and is not empty: init makes a new app in a new (or empty) directory`);
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'gatehouse-app';
  const vars: Record<string, string> = { __NAME__: name, __GATEHOUSE__: relativePath(dir, root), __APPDIR__: dir };
  const templates = join(root, 'templates', 'app');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const file of readdirSync(templates)) {
    const text = readFileSync(join(templates, file), 'utf8').replace(/__NAME__|__GATEHOUSE__|__APPDIR__/g, (v) => vars[v]!);
    const out = RENAMES[file] ?? file;
    writeFileSync(join(dir, out), text);
    files.push(out);
  }
  return { dir, files: files.sort() };
}

export function initCommand(): Command {
  const cmd = new Command('init')
    .description('make a new app in DIR: one actor kind, one route, one test; runs with npm start and npm test')
    .argument('<dir>', 'a new (or empty) directory')
    .action(async (target: string) => {
      const root = checkoutRoot();
      const { dir, files } = initApp(target, root);
      const built = existsSync(join(root, 'dist', 'server', 'app-kit.js'));
      process.stdout.write(
        [
          `made a gatehouse app in ${dir}: ${files.join(', ')}`,
          '',
          `  cd ${relative(process.cwd(), dir).startsWith('..') ? dir : relative(process.cwd(), dir)}`,
          '  npm test       # a node in the test process, a client calling hello.greet',
          '  npm start      # the app on a node: ws://127.0.0.1:7350, route hello.greet {name}',
          '',
          'app.js has the kind and the route; docs/APPS.md (in this checkout) explains kinds, machines, effects, persistence and routes.',
          ...(built ? [] : ['', `first compile this checkout once: (cd ${root} && npm run build)`]),
          '',
        ].join('\n'),
      );
    });
  return withExamples(cmd, ['gatehouse init my-app && cd my-app && npm test && npm start']);
}
