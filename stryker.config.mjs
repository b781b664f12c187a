// Mutation testing (issue 19), outside CI. `npm run mutate [-- FILE ...]` runs this file with node: it starts Stryker
// once per module (so one slow module cannot starve the others), one test process at a time, each run capped in time,
// and writes reports/mutation/<module>.html and .json (gitignored). Stryker itself loads the same file as its config.
//
// Knobs (environment): GH_MUTATE_TESTS  comma-separated test folders/files to search for related tests
//                                       (default: the files listed in MODULES below)
//                      GH_MUTATE_MAX_MIN wall-clock cap per module in minutes (default 30); the run is killed past it
//                      GH_MUTATE_CONCURRENCY test processes (default 1: the machine is small and shared)
//                      GH_MUTATE_CHECK=1 also type-check each mutant (slower; skips mutants that do not compile)
//                      GH_MUTATE_FORCE=1 re-run every mutant, not only those whose code or tests changed
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The modules the invariants rest on, with the test files that exercise them without starting processes. Explicit
 * files, not folders: vitest collects every related file again for each mutant (about 3 s a file on a loaded 2-core
 * machine), so a folder makes a 60-mutant module take half an hour.
 */
export const MODULES = {
  'actors/runtime/seen.ts': ['test/unit/runtime-structures.test.ts', 'test/unit/seen-mutants.test.ts'],
  'actors/runtime/mailbox.ts': ['test/unit/runtime-structures.test.ts', 'test/unit/mailbox-mutants.test.ts'],
  'actors/runtime/persisted.ts': ['test/unit/persisted.test.ts', 'test/unit/persisted-mutants.test.ts'],
  'actors/runtime/snapshots.ts': ['test/unit/snapshots-mutants.test.ts'],
  'actors/runtime/cell.ts': ['test/unit/cell-mutants.test.ts', 'test/unit/cell-mutants-2.test.ts', 'test/unit/cell-wake.test.ts', 'test/unit/actors/hibernate.test.ts'],
  'actors/runtime/cell-answers.ts': ['test/unit/cell-mutants.test.ts'],
  'actors/runtime/turn-runner.ts': ['test/unit/turn-runner-mutants.test.ts', 'test/unit/turn-runner-mutants-2.test.ts', 'test/unit/cell-mutants.test.ts', 'test/unit/cell-wake.test.ts'],
  'cluster/allocation.ts': ['test/unit/allocation.test.ts', 'test/unit/allocation-mutants.test.ts'],
  'cluster/leases.ts': ['test/unit/leases-mutants.test.ts'],
  'cluster/migration.ts': ['test/unit/migration-mutants.test.ts', 'test/unit/migration-mutants-2.test.ts'],
  'protocol/native/codec.ts': ['test/unit/native-codec.test.ts', 'test/unit/native-fuzz.test.ts', 'test/unit/native-codec-mutants.test.ts'],
  'protocol/native/frames.ts': ['test/unit/native-codec.test.ts', 'test/unit/native-fuzz.test.ts', 'test/unit/native-codec-mutants.test.ts'],
  'protocol/pomelo/message.ts': ['test/unit/pomelo-codec.test.ts', 'test/unit/pomelo-fuzz.test.ts', 'test/unit/pomelo-codec-mutants.test.ts'],
  'protocol/pomelo/frames.ts': ['test/unit/pomelo-codec.test.ts', 'test/unit/pomelo-fuzz.test.ts', 'test/unit/pomelo-codec-mutants.test.ts'],
  'protocol/pomelo/handshake.ts': ['test/unit/pomelo-codec.test.ts', 'test/unit/pomelo-interop.test.ts', 'test/unit/pomelo-codec-mutants.test.ts'],
  'protocol/pomelo/route-dict.ts': ['test/unit/pomelo-codec.test.ts', 'test/unit/pomelo-interop.test.ts', 'test/unit/pomelo-codec-mutants.test.ts'],
};

/**
 * Groups run as one Stryker process (one start-up and dry run for several small files): `npm run mutate -- pomelo`.
 * A group's tests are the union of its members' lists.
 */
export const GROUPS = {
  pomelo: [
    'protocol/pomelo/frames.ts',
    'protocol/pomelo/message.ts',
    'protocol/pomelo/handshake.ts',
    'protocol/pomelo/route-dict.ts',
  ],
  native: ['protocol/native/codec.ts', 'protocol/native/frames.ts'],
  /** The actor cell and the answers split from it. */
  cell: ['actors/runtime/cell.ts', 'actors/runtime/cell-answers.ts'],
};

const target = process.env.GH_MUTATE_FILE ?? 'actors/runtime/seen.ts';
const name = (GROUPS[target] ? target : target.replace(/:.*$/, '')).replace(/[/.]/g, '_');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'],
  // vitest `related` mode: only the test files (under these folders) that import the mutated module, directly or not.
  vitest: { configFile: 'test/unit/vitest-mutants.config.ts', related: true },
  mutate: GROUPS[target] ?? [target],
  checkers: process.env.GH_MUTATE_CHECK === '1' ? ['typescript'] : [],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.GH_MUTATE_CONCURRENCY ?? 1),
  // A mutant that loops forever is a timeout (counted as detected), bounded to ~2x the test's own time + 10 s.
  timeoutMS: 5_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 10,
  disableBail: false,
  // Copy no build output, results or data into the sandbox; tests run from TypeScript sources.
  ignorePatterns: ['dist', 'reports', 'test-artifacts', 'data', '.tmp', 'bench/results', 'web/vendor'],
  tempDirName: 'reports/mutation/.tmp',
  cleanTempDir: true,
  incremental: true,
  // GH_MUTATE_FORCE=1 re-runs every mutant: module-level mutants have no recorded covering test, so an incremental run
  // keeps their old result even after tests that kill them were added.
  force: process.env.GH_MUTATE_FORCE === '1',
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  thresholds: { high: 90, low: 80, break: null },
};

/** Run Stryker once per module, in turn, each bounded by GH_MUTATE_MAX_MIN. */
async function main() {
  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(MODULES);
  const capMs = Number(process.env.GH_MUTATE_MAX_MIN ?? 30) * 60_000;
  const self = fileURLToPath(import.meta.url);
  let failed = 0;
  for (const file of files) {
    const listed = GROUPS[file] ? [...new Set(GROUPS[file].flatMap((f) => MODULES[f] ?? []))] : MODULES[file.replace(/:.*$/, '')];
    const dirs = (process.env.GH_MUTATE_TESTS?.split(',') ?? listed ?? ['test/unit']).filter(Boolean);
    process.stdout.write(`\n== mutate ${file} (tests related under ${dirs.join(', ')}; cap ${capMs / 60_000} min)\n`);
    // vitest `related` narrows by import graph; GH_VITEST_INCLUDE (test/unit/vitest-mutants.config.ts) by folder.
    // GH_SKIP_BUILD: these tests start no processes, so the global setup need not rebuild the shared dist/.
    const child = spawn(process.execPath, ['node_modules/@stryker-mutator/core/bin/stryker.js', 'run', basename(self)], {
      stdio: 'inherit',
      env: { ...process.env, GH_MUTATE_FILE: file, GH_SKIP_BUILD: '1', GH_VITEST_INCLUDE: dirs.join(',') },
      detached: true,
    });
    // Stopping this runner stops the run too (Stryker is in its own process group, for the cap below).
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      process.exit(130);
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const timer = setTimeout(() => {
      process.stdout.write(`\n== ${file}: over the ${capMs / 60_000} min cap, stopped\n`);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }, capMs);
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    clearTimeout(timer);
    process.off('SIGINT', stop).off('SIGTERM', stop);
    if (code !== 0) failed++;
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
