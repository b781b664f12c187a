/**
 * Configs for nodes that tests and benchmarks start. The default store of embedded mode is LMDB in `./data`
 * (config/defaults.ts), which one process may hold at a time: test and bench nodes run on the in-memory store unless
 * they ask for a directory of their own, so parallel test files never collide on `./data`.
 */
import { loadConfig, type DeepPartial } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** `loadConfig` with `overrides` over the in-memory store. */
export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  return loadConfig({ overrides: { ...overrides, store: { kind: 'memory', ...overrides.store } } });
}

/**
 * Environment for gatehouse CLI processes (dev/procs.ts): the in-memory store unless the test passes
 * `--set store.kind=lmdb --set store.path=DIR` (flags win over the environment).
 */
export const TEST_STORE_ENV: Readonly<Record<string, string>> = Object.freeze({ GATEHOUSE_STORE_KIND: 'memory' });
