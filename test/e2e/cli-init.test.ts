/**
 * `gatehouse init DIR` (issue 18): the app it makes passes its own `npm test` (node's test runner, a node in the test
 * process) and runs with its `npm start` command (the compiled CLI with `--app ./app.js`, here on free ports), where a
 * client calls its route and the CLI inspects its actor without creating others. Offline: nothing is installed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FREE_PORT_FLAGS } from '../../dev/embedded-proc.js';
import { watchOutput } from '../../dev/child-output.js';
import { runCli, type Proc } from '../../dev/procs.js';
import { connect } from '../../client/node.js';

describe('gatehouse init', { timeout: 120_000 }, () => {
  const procs: Proc[] = [];
  const kills: Array<() => void> = [];
  const root = mkdtempSync(join(tmpdir(), 'gh-init-'));
  const dir = join(root, 'my-app');
  afterAll(async () => {
    for (const k of kills) k();
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const p = runCli(args);
    procs.push(p);
    return { code: await p.exited, out: p.output() };
  }

  it('makes an app that passes its npm test and serves its route under its npm start', async () => {
    const made = await cli(['init', dir]);
    expect(made.code).toBe(0);
    expect(made.out).toContain(`made a gatehouse app in ${dir}: .gitignore, README.md, app.js, app.test.js, gatehouse.js, package.json`);

    // npm test in the app: node --test, offline (no registry is asked; nothing to install).
    const test = spawn('npm', ['test'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false', npm_config_offline: 'true' } });
    kills.push(() => test.exitCode === null && test.kill('SIGKILL'));
    const tested = watchOutput(test, 'npm test');
    const { code } = await tested.ended;
    expect(code, tested.output()).toBe(0);
    expect(tested.output()).toMatch(/# pass 2\n# fail 0/);

    // npm start's command (package.json) with free ports: the node runs the app and its route answers.
    const start = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start as string;
    const [node, script, ...args] = start.split(' ');
    expect(node).toBe('node');
    const app = spawn(process.execPath, [script!, ...args, ...FREE_PORT_FLAGS], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    kills.push(() => app.exitCode === null && app.kill('SIGKILL'));
    const out = watchOutput(app, 'app start');
    await out.waitFor(/stop with Ctrl-C/, 60_000);
    expect(out.output()).toMatch(/apps gateway, hello$/m);
    const url = /native ws\s+(ws:\S+)/.exec(out.output())![1]!;
    const client = await connect({ url, client: 'init-test' });
    try {
      expect(await client.request('hello.greet', { name: 'ada' })).toEqual({ greeting: 'Hello, ada!', count: 1 });
      await expect(client.request('hello.greet', { name: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    } finally {
      await client.close();
    }
    const data = join(dir, 'data');
    const asked = await cli(['ask', 'greeter/ada', '{"type":"get"}', '--data', data]);
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.out.slice(asked.out.indexOf('{')))).toEqual({ count: 1 });
    // inspect never creates: an absent greeter is NOT_FOUND, and the node activates nothing (its ops /status).
    const statusUrl = /status page (http:\S+)/.exec(out.output())![1]!;
    const activations = async () => ((await (await fetch(`${statusUrl}status`)).json()) as { actors: { activations: number; perKind: Record<string, number> } }).actors;
    const before = await activations();
    for (let i = 0; i < 2; i++) {
      const absent = await cli(['inspect', 'greeter/nobody', '--data', data]);
      expect(absent.code).toBe(1);
      expect(absent.out).toMatch(/no actor greeter\/nobody \[NOT_FOUND\]/);
    }
    const after = await activations();
    expect(after.activations).toBe(before.activations);
    expect(after.perKind.greeter).toBe(1);
    app.kill('SIGTERM');
    expect((await out.ended).code).toBe(0);
  });

  it('refuses a directory that is not empty', async () => {
    const full = join(root, 'full');
    await cli(['init', full]);
    writeFileSync(join(full, 'mine.txt'), 'x');
    const again = await cli(['init', full]);
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/exists and is not empty/);
  });
});
