/**
 * The operator CLI against an embedded node (`gatehouse start` on an LMDB data directory, a real child process):
 * tail, inspect, status, ask and tell reach it through the control socket in its data directory, with the output
 * they give against a cluster; the socket is the owner's only and bounded (frame size, connections, bad frames); a
 * second `start` on the directory is refused with STORE_LOCKED and no stack.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type Proc } from '../../dev/procs.js';
import { cliOnData, startEmbeddedProcess, type EmbeddedProc } from '../../dev/embedded-proc.js';
import { eventually } from '../../dev/wait.js';
import { CONTROL_SOCKET } from '../../bus/socket/socket-bus.js';
import { FrameReader, encodeFrame, type Frame } from '../../bus/socket/frames.js';

describe('gatehouse CLI against an embedded node', { timeout: 120_000 }, () => {
  let dir: string;
  let node: EmbeddedProc;
  const procs: Proc[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-emb-'));
    node = await startEmbeddedProcess({ dir, extra: ['--roles', 'worker', '--set', 'node.builtinApps=demo', '--prefix', 'emb'] });
  });
  afterAll(async () => {
    await Promise.all([...procs, node?.proc].filter(Boolean).map((p) => p!.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => cliOnData(dir, procs, args);

  it('names its data directory; refuses a second process on it with STORE_LOCKED and no stack', async () => {
    expect(node.proc.output()).toContain(`data        ${dir}`);
    const second = runCli(['start', '--data', dir, '--set', 'store.kind=lmdb', '--roles', 'worker', '--set', 'metrics.port=0']);
    procs.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`data directory \\S+ is in use by process ${node.proc.pid}.*\\[STORE_LOCKED\\]`));
    expect(second.output()).not.toMatch(/\n\s+at /);
    expect(statSync(join(dir, CONTROL_SOCKET)).mode & 0o777).toBe(0o600);
  });

  it('tells, asks, tails actor traffic and traces, inspects, and reports status', async () => {
    const tailActors = runCli(['tail', 'ledger.>', '--data', dir]);
    const tailTraces = runCli(['tail', 'trace.>', '--data', dir]);
    procs.push(tailActors, tailTraces);
    expect(await tailActors.waitFor(/tailing/)).toMatch(/tailing emb\.ledger\.>/); // the node's prefix, from its hello
    await tailTraces.waitFor(/tailing/);

    expect((await cli(['tell', 'ledger/acct-1', '{"type":"inc","from":"cli","n":0}'])).code).toBe(0);
    const ask = await eventually(async () => {
      const r = await cli(['ask', 'ledger/acct-1', '{"type":"get"}']);
      return r.code === 0 && r.out.includes('"count": 1') ? r : undefined;
    });
    expect(ask.out).toContain('"cli"');

    const line = await tailActors.waitFor(/"subject":"ledger\.\d+\.acct-1"/);
    expect(JSON.parse(line).data.m).toEqual({ type: 'inc', from: 'cli', n: 0 });
    // Traces are published only while a tap is live; the tap may reach the node after the first message.
    const trace = await eventually(async () => {
      await cli(['tell', 'ledger/acct-1', '{"type":"inc","from":"cli","n":1}']);
      return tailTraces.output().split('\n').find((l) => l.includes('"subject":"trace.ledger.acct-1"'));
    });
    expect(JSON.parse(trace).data).toMatchObject({ kind: 'ledger', id: 'acct-1' });

    const inspect = await cli(['inspect', 'ledger/acct-1']);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.out.slice(inspect.out.indexOf('{')))).toMatchObject({ kind: 'ledger', id: 'acct-1' });

    const absent = await cli(['inspect', 'ledger/nobody']);
    expect(absent.code).toBe(1);
    expect(absent.out).toMatch(/no actor ledger\/nobody \[NOT_FOUND\]/);

    const bad = await cli(['ask', 'ledger/acct-1', '{"type":"nope"}']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/\[BAD_MESSAGE\]/);

    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/leader: \S+ {3}moving: 0 {3}shards without a live owner: 0/);
    expect(table.out).toMatch(/ledger: \S+=64/);
    const json = await cli(['status', '--json']);
    const s = JSON.parse(json.out.slice(json.out.indexOf('{'))) as { nodes: Array<{ id: string; roles: string[] }>; leader: string };
    expect(s.nodes).toHaveLength(1);
    expect(s.nodes[0]!.roles).toEqual(['worker']);
    expect(s.leader).toBe(s.nodes[0]!.id);

    const drain = await cli(['drain', s.leader]);
    expect(drain.code).toBe(2);
    expect(drain.out).toMatch(/embedded node is the whole deployment/);
    await Promise.all([tailActors.kill('SIGINT'), tailTraces.kill('SIGINT')]);
  });

  it('says what to give when no embedded node runs in the directory', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gh-cli-none-'));
    try {
      const p = runCli(['status', '--data', empty]);
      procs.push(p);
      expect(await p.exited).toBe(2);
      expect(p.output()).toMatch(/no running embedded node in .*--nats URL for a cluster/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('bounds the control socket: frame size, bad frames, connections', async () => {
    const path = join(dir, CONTROL_SOCKET);
    const open = async () => {
      const s = createConnection(path);
      const reader = new FrameReader(1 << 24);
      const frames: Frame[] = [];
      s.on('data', (c) => frames.push(...reader.push(c)));
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      await eventually(() => frames.length > 0);
      return { s, frames, closed };
    };
    const tooBig = await open();
    expect(tooBig.frames[0]).toMatchObject({ op: 'hello', prefix: 'emb', shards: 64 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 * 1024);
    tooBig.s.write(header); // only the length: refused before a byte of body is buffered
    await tooBig.closed;
    expect(tooBig.frames.at(-1)).toMatchObject({ op: 'err', code: 'FRAME_TOO_LARGE' });

    const garbage = await open();
    garbage.s.write(Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]));
    await garbage.closed;
    expect(garbage.frames.at(-1)).toMatchObject({ op: 'err', code: 'BAD_FRAME' });

    const fields = await open();
    fields.s.write(encodeFrame({ op: 'req', id: 1, s: 42, d: 'x', t: 100 }));
    await eventually(() => fields.frames.length > 1);
    expect(fields.frames[1]).toMatchObject({ op: 'err', id: 1, code: 'BAD_FRAME', message: 'req frame: field s must be a string of 1-1024 chars' });
    fields.s.destroy();

    const held: Socket[] = [];
    try {
      // Connections closed just before may still count for a moment: open until refused, within a bound.
      let refused: Frame | undefined;
      for (let i = 0; i < 24 && !refused; i++) {
        const c = await open();
        if (c.frames[0]!.op === 'err') refused = c.frames[0];
        else held.push(c.s);
      }
      expect(refused).toMatchObject({ op: 'err', code: 'TOO_MANY_CONNECTIONS' });
      expect(held.length).toBeLessThanOrEqual(16);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
