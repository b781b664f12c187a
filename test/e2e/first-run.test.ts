/**
 * The first run of a fresh clone (issue 18): `npm start` is quiet (at most 25 lines before it is ready, the banner
 * last, listing only pages that answer), and `npm ci` would pass on a fresh machine. The start is the built CLI with
 * the flags `npm start` passes (scripts/start.mjs: `gatehouse start ...`) in a temp data directory on free ports;
 * `npm start` itself would also compile into the shared dist/. npm prints 4 lines of its own before the script (a
 * blank line, `> gatehouse@0.1.0 start`, `> node scripts/start.mjs`, a blank line), so the CLI gets 21.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FREE_PORT_FLAGS } from '../../dev/embedded-proc.js';
import { ROOT, runCli, type Proc } from '../../dev/procs.js';
// @ts-expect-error: a plain .mjs script without types
import { lockProblems } from '../../scripts/lock-check.mjs';

const NPM_HEADER_LINES = 4;
const MOST_LINES = 25;

describe('first run of a fresh clone', { timeout: 120_000 }, () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('npm start prints at most 25 lines before it is ready, the banner last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-first-'));
    dirs.push(dir);
    // --data: the LMDB store, as ./data is on a first run.
    const p = runCli(['start', '--data', dir, ...FREE_PORT_FLAGS]);
    procs.push(p);
    await p.waitFor(/stop with Ctrl-C/, 60_000);
    const out = p.output();
    const lines = out.slice(0, out.indexOf('stop with Ctrl-C')).split('\n');
    expect(lines.length + NPM_HEADER_LINES, out).toBeLessThanOrEqual(MOST_LINES);
    // Before the banner: only log lines (JSON here: stdout is a pipe), never the 832 `shard assigned` of a cluster.
    const banner = lines.findIndex((l) => /is running$/.test(l));
    expect(banner).toBeGreaterThan(0);
    for (const l of lines.slice(0, banner - 1)) expect(() => JSON.parse(l), l).not.toThrow();
    expect(out).not.toContain('shard assigned');
    expect(out).toContain(`data        ${dir}`);
    // Every page the banner lists answers (the "web pages" address used to say `not found`).
    const pages = [...out.matchAll(/^ {4}(web pages|browser SDK|[a-z ]*page[a-z ]*)\s+(http:\/\/\S+)$/gm)].map((m) => m[2]!);
    const status = [...out.matchAll(/status page (http:\/\/\S+)/g)].map((m) => m[1]!);
    expect(pages.length + status.length).toBeGreaterThan(0);
    for (const url of [...pages, ...status]) expect((await fetch(url)).status, url).toBe(200);
    await p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('npm ci would pass on a fresh machine: the lock is complete and in step with package.json', () => {
    const r = lockProblems(ROOT) as { missing: string[]; outOfSync: string[]; engines: { floor: string; production: string[]; dev: string[] } };
    expect(r.missing).toEqual([]);
    expect(r.outOfSync).toEqual([]);
    // Every production dependency runs on the lowest Node that `engines` promises.
    expect(r.engines.production).toEqual([]);
    // And the set-up uses `npm ci` alone: no fallback that would install other versions after printing npm errors.
    const setup = readFileSync(join(ROOT, 'scripts', 'setup.mjs'), 'utf8');
    expect(setup).toMatch(/\('npm', \['ci'/);
    expect(setup).not.toMatch(/\('npm', \['install'/);
  });
});
