/**
 * The operator CLI against a live cluster: spawn, status, tell/ask, tail (actor traffic and traces), inspect, move.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { fastClusterFlags, runCli, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';

// About 25 CLI processes in a row: at load average 24 on 2 cores each takes 2-5 s.
describe('gatehouse CLI', { timeout: 300_000 }, () => {
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  let common: string[];
  beforeAll(async () => {
    nats = await startNatsServer();
    common = ['--nats', nats.url, '--prefix', 'cli', ...fastClusterFlags()];
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await nats?.stop();
  });

  async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const p = runCli([...args, ...common]);
    procs.push(p);
    const code = await p.exited;
    return { code, out: p.output() };
  }

  it('spawns nodes, reports status, talks to actors, tails traffic and traces, inspects and moves', async () => {
    const spawn = runCli(['spawn', '--count', '2', '--roles', 'worker', ...common]);
    procs.push(spawn);
    await eventually(() => (spawn.output().match(/is running/g) ?? []).length === 2, { timeoutMs: 60_000, what: 'two spawned nodes' });

    const status = await eventually(async () => {
      const r = await cli(['status', '--json']);
      if (r.code !== 0) return undefined;
      const s = JSON.parse(r.out.slice(r.out.indexOf('{'))) as { nodes: Array<{ id: string }>; leader?: string; shardMap: Record<string, Record<string, number>>; unowned: number };
      return s.nodes.length === 2 && s.unowned === 0 && Object.keys(s.shardMap.ledger ?? {}).length === 2 ? s : undefined;
    }, { timeoutMs: 45_000, what: 'status with two nodes sharing the shards' });
    const ids = status.nodes.map((n) => n.id);
    expect(ids).toContain(status.leader);
    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/shard map/);

    const tailActors = runCli(['tail', 'ledger.>', ...common]);
    const tailTraces = runCli(['tail', 'trace.>', ...common]);
    procs.push(tailActors, tailTraces);
    await tailActors.waitFor(/tailing/);
    await tailTraces.waitFor(/tailing/);

    expect((await cli(['tell', 'ledger/acct-1', '{"type":"inc","from":"cli","n":0}'])).code).toBe(0);
    const ask = await eventually(async () => {
      const r = await cli(['ask', 'ledger/acct-1', '{"type":"get"}']);
      return r.code === 0 && r.out.includes('"count": 1') ? r : undefined;
    });
    expect(ask.out).toContain('"cli"');

    // tail: every message on matching subjects, MessagePack decoded, one JSON line each.
    const line = await tailActors.waitFor(/"subject":"ledger\.\d+\.acct-1"/);
    const rec = JSON.parse(line) as { subject: string; data: { m: { type: string; from: string } } };
    expect(rec.data.m).toMatchObject({ type: 'inc', from: 'cli' });
    // traces appear while tapped: keep poking until the tap announcement has reached the owner.
    await eventually(async () => {
      await cli(['tell', 'ledger/acct-1', '{"type":"inc"}']);
      return /"subject":"trace\.ledger\.acct-1"/.test(tailTraces.output());
    }, { timeoutMs: 15_000, what: 'a trace line' });

    const inspect = await cli(['inspect', 'ledger/acct-1']);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.out.slice(inspect.out.indexOf('{')))).toMatchObject({ kind: 'ledger', id: 'acct-1', status: 'active', persistence: 'snapshot' });

    // move a shard to the node that does not have it, and back: live, and the actor keeps its state.
    const owners = status.shardMap.ledger!;
    void owners;
    const target = ids[1]!;
    const moved = await cli(['move', 'ledger:3', '--to', target]);
    expect(moved.code).toBe(0);
    expect(moved.out).toContain(`ledger.3 is on ${target}`);
    // move by actor: its shard goes (to each node in turn, so one of the two is a live move) and it keeps its state.
    for (const to of ids) {
      const byActor = await cli(['move', 'ledger/acct-1', '--to', to]);
      expect(byActor.code).toBe(0);
      expect(byActor.out).toMatch(/ledger\/acct-1 is in shard ledger:\d+; its shard's other actors move with it/);
      expect(byActor.out).toMatch(new RegExp(`ledger\\.\\d+ is on ${to}`));
    }
    // --unpin: the pin goes, the balancer may place the shard again; a second unpin says there is none.
    const unpin = await cli(['move', 'ledger:3', '--unpin']);
    expect(unpin.code).toBe(0);
    expect(unpin.out).toMatch(new RegExp(`ledger\\.3 unpinned from ${target} \\(now \\S+\\): the balancer places it by capacity again`));
    const none = await cli(['move', 'ledger:3', '--unpin']);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/ledger\.3 has no pin/);
    // inspect never creates: an absent actor of a durable and of an in-memory kind is NOT_FOUND, twice.
    for (const absent of ['ledger/nobody', 'tally/nobody', 'tally/nobody']) {
      const r = await cli(['inspect', absent]);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`no actor ${absent} [NOT_FOUND]`);
    }
    const after = await cli(['ask', 'ledger/acct-1', '{"type":"get"}']);
    expect(after.code).toBe(0);
    expect(after.out).toContain('"cli"');
    const noKind = await cli(['move', 'nokind/x', '--to', target]);
    expect(noKind.code).toBe(2);
    expect(noKind.out).toMatch(/no shard nokind\.\d+ in this deployment \(kinds with shards: .*ledger/);
    const noNode = await cli(['move', 'ledger:3', '--to', 'nosuch']);
    expect(noNode.code).toBe(2);
    expect(noNode.out).toMatch(/nosuch is not a live node; workers: /);

    const badJson = await cli(['tell', 'ledger/acct-1', '{nope']);
    expect(badJson.code).toBe(2);
    expect(badJson.out).toMatch(/not valid JSON/);

    await spawn.kill('SIGTERM');
    expect(await spawn.exited).toBe(0);
  });

  it('spawn starts its nodes with its own node flags (e.g. --single-threaded-gc for a small box)', async () => {
    const spawn = runCli(['spawn', '--count', '1', '--roles', 'worker', ...common], { nodeArgs: ['--single-threaded-gc'] });
    procs.push(spawn);
    const pid = Number(/pid (\d+)/.exec(await spawn.waitFor(/spawned node process 1\/1: pid \d+/))![1]);
    try {
      await spawn.waitFor(/is running/, 60_000);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv.indexOf('--single-threaded-gc')).toBeGreaterThan(0);
      expect(argv.indexOf('--single-threaded-gc')).toBeLessThan(argv.indexOf('node'));
      await spawn.kill('SIGTERM');
      expect(await spawn.exited).toBe(0);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already stopped by its supervisor
      }
    }
  });
});
