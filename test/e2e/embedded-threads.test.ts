/**
 * Embedded mode on every core (`gatehouse start --threads 2`, no NATS, a real child process on an LMDB data
 * directory): the main thread serves its broker and store to two worker-thread nodes (bus/thread/), the process's
 * nodes cluster, the threads take every shard between them (`gatehouse status` over the control socket shows them),
 * asks reach actors on the threads, a SIGTERM stops the process cleanly, and what the threads wrote is there after a
 * restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type Proc } from '../../dev/procs.js';
import { cliOnData, startEmbeddedProcess, type EmbeddedProc } from '../../dev/embedded-proc.js';
import { eventually } from '../../dev/wait.js';

const EXTRA = ['--threads', '2', '--prefix', 'thr'];

describe('embedded mode with worker threads', { timeout: 120_000 }, () => {
  let dir: string;
  let node: EmbeddedProc | undefined;
  const procs: Proc[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-emb-threads-'));
    node = await startEmbeddedProcess({ dir, extra: EXTRA });
  });
  afterAll(async () => {
    await Promise.all([...procs, node?.proc].filter(Boolean).map((p) => p!.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => cliOnData(dir, procs, args);

  /** `gatehouse status` rows: node id → shards owned. */
  const shardsByNode = (out: string) =>
    new Map([...out.matchAll(/^(\S+?)(?: \*)?\s+(gateway|worker)\s+\d+\s+(\d+)\s/gm)].map((m) => [m[1]!, { role: m[2]!, shards: Number(m[3]) }]));

  it('spreads the shards over the two thread nodes and answers through them', async () => {
    const status = await eventually(async () => {
      const r = await cli(['status']);
      const rows = shardsByNode(r.out);
      const workers = [...rows.values()].filter((v) => v.role === 'worker');
      return r.code === 0 && rows.size === 3 && workers.length === 2 && workers.every((w) => w.shards > 0) && /shards without a live owner: 0/.test(r.out) ? r.out : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, what: 'status shows two thread workers owning shards' });
    const rows = shardsByNode(status);
    const main = [...rows].find(([, v]) => v.role === 'gateway')!;
    expect(main[1].shards).toBe(0); // the main thread keeps the gateway; the threads take the workers' shards
    for (const id of [...rows.keys()].filter((k) => k !== main[0])) expect(id.startsWith(`${main[0]}-t`)).toBe(true);

    for (const id of ['a1', 'a2', 'a3']) {
      const r = await cli(['ask', `ledger/${id}`, '{"type":"inc","from":"t","n":0}']);
      expect(r.code, r.out).toBe(0);
    }
    const inspect = await cli(['inspect', 'ledger/a1']);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.out.slice(inspect.out.indexOf('{'))).node).toMatch(new RegExp(`^${main[0]}-t[01]$`));

    // The ports to the threads are bounded (node.threadQueueBytes) and show on the main node's metrics.
    const metricsUrl = /\(metrics: (http:\/\/\S+?)\)/.exec(node!.proc.output())?.[1];
    expect(metricsUrl, node!.proc.output()).toBeDefined();
    const text = await (await fetch(metricsUrl!)).text();
    for (const port of ['bus', 'store']) {
      expect(text).toMatch(new RegExp(`^gatehouse_thread_slow_consumer_drops_total\\{[^}]*port="${port}"[^}]*\\} 0$`, 'm'));
      expect(text).toMatch(new RegExp(`^gatehouse_thread_port_queued_bytes_max\\{[^}]*port="${port}"[^}]*\\} \\d+$`, 'm'));
    }
  });

  it('refuses --threads with a worker-only main thread (nothing could reach the threads), naming the fix', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gh-emb-threads-w-'));
    try {
      const p = runCli(['start', '--threads', '2', '--roles', 'worker', '--data', empty, '--set', 'store.kind=lmdb', '--set', 'metrics.port=0']);
      procs.push(p);
      expect(await p.exited).toBe(2);
      expect(p.output()).toMatch(/--threads without NATS keeps the other roles on the main thread: give --roles gateway,worker/);
      expect(p.output()).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('stops cleanly on SIGTERM and keeps what the threads wrote across a restart', async () => {
    expect(await node!.proc.kill('SIGTERM')).toBe(0);
    expect(node!.proc.output()).not.toMatch(/"level":(50|60)|\n\s+at /);
    node = await startEmbeddedProcess({ dir, extra: EXTRA });
    const got = await eventually(async () => {
      const r = await cli(['ask', 'ledger/a2', '{"type":"get"}']);
      return r.code === 0 ? r.out : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, what: 'ledger/a2 answers after the restart' });
    expect(got).toContain('"count": 1');
  });
});
