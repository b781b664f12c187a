// A cheap stand-in for a fresh `npm ci` (which a test must not run: minutes, the network, and it rewrites the shared
// node_modules): the two things that made it fail or warn on a fresh machine, read from package-lock.json alone.
//  - every dependency and optional dependency a locked package names has an entry npm can find (node_modules lookup
//    from the package up to the root), else `npm ci` stops with "Missing: X from lock file";
//  - the root's dependencies are the ones the lock was made from (else "package.json and package-lock.json are not in
//    sync");
//  - every locked package's `engines.node` accepts the lowest Node this package claims (`engines.node` of the root),
//    split into production and dev packages: a production one means users on that Node get a package that refuses it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function lockProblems(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [path, entry] of Object.entries(packages)) {
    if (entry.link) continue;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      let base = path;
      let found = false;
      for (;;) {
        if (packages[`${base ? base + '/' : ''}node_modules/${dep}`]) {
          found = true;
          break;
        }
        if (!base) break;
        const i = base.lastIndexOf('/node_modules/');
        base = i < 0 ? '' : base.slice(0, i);
      }
      if (!found) missing.push(`${path || '(root)'} needs ${dep}`);
    }
  }
  const rootEntry = packages[''] ?? {};
  const outOfSync = [];
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const want = pkg[field] ?? {};
    const locked = rootEntry[field] ?? {};
    for (const name of new Set([...Object.keys(want), ...Object.keys(locked)])) {
      if (want[name] !== locked[name]) outOfSync.push(`${field}.${name}: package.json ${want[name] ?? '-'}, lock ${locked[name] ?? '-'}`);
    }
  }
  const floor = lowest(pkg.engines?.node ?? '*');
  const engines = { floor, production: [], dev: [] };
  for (const [path, entry] of Object.entries(packages)) {
    const range = entry.engines?.node;
    if (!path || entry.optional || typeof range !== 'string' || satisfies(floor, range)) continue;
    (entry.dev || entry.devOptional ? engines.dev : engines.production).push(`${path.replace(/^.*node_modules\//, '')} wants node ${range}`);
  }
  return { missing, outOfSync, engines };
}

// Just enough of semver ranges for `engines.node` (>=, >, <=, <, =, ^, ~, x, *, spaces, ||): the root's copy of
// the semver package is too old to lean on, and a script that runs before `npm ci` cannot import a dependency.
const parse = (v) => v.replace(/^v/, '').split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : undefined));
function cmp(a, b) {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
function test(version, comparator) {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*v?([\dxX*.]+)$/.exec(comparator.trim());
  if (!m) return comparator.trim() === '' || comparator.trim() === '*';
  const v = parse(version);
  const bound = parse(m[2].replace(/[xX*]/g, 'x'));
  const fixed = bound.filter((p) => p !== undefined).length;
  switch (m[1] ?? '=') {
    case '>=': return cmp(v, bound) >= 0;
    case '>': return cmp(v, bound) > 0;
    case '<=': return cmp(v, bound) <= 0;
    case '<': return cmp(v, bound) < 0;
    case '^': return cmp(v, bound) >= 0 && v[0] === (bound[0] ?? 0) && (bound[0] !== 0 || v[1] === bound[1]);
    case '~': return cmp(v, bound) >= 0 && v[0] === bound[0] && (fixed < 2 || v[1] === bound[1]);
    default: return bound.every((p, i) => p === undefined || v[i] === p);
  }
}
export function satisfies(version, range) {
  return range.split('||').some((alt) => alt.trim().replace(/([<>=^~]+)\s+/g, '$1').split(/\s+/).every((c) => test(version, c)));
}
/** The lowest version a `>=X` style range allows (what a user reading `engines` may run). */
function lowest(range) {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range);
  return m ? `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}` : '0.0.0';
}
