// Vitest config for mutation runs only (stryker.config.mjs): the project's config with the test files narrowed to
// the folders/files named in GH_VITEST_INCLUDE (comma-separated), so Stryker's `related` search never reaches tests
// that start nats-server or node processes. Not picked up by `npm test` (its name does not end in .test.ts).
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import base from '../../vitest.config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const include = (process.env.GH_VITEST_INCLUDE ?? 'test/unit')
  .split(',')
  .filter(Boolean)
  .map((p) => (p.endsWith('.ts') ? p : `${p.replace(/\/$/, '')}/**/*.test.ts`));

// Not mergeConfig: it would append to the base's include list instead of replacing it.
export default defineConfig({ ...base, root, test: { ...base.test, include, reporters: ['dot'] } });
