/**
 * docs/INVARIANTS.md invariant 8: the same end-to-end scenario passes with all actors in one process (embedded bus), in
 * worker threads of one process, and in several processes. Nothing in the scenario knows which.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { testConfig } from '../../dev/test-config.js';
import { silentLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode } from '../../server/node.js';
import { defaultApps } from '../../server/apps.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, type Proc, DEMO_ONLY } from '../../dev/procs.js';
import { ownersOf, readLeases } from '../../dev/cluster-watch.js';
import { eventually } from '../../dev/wait.js';

const SHARDS = 16;

/** The scenario: durable and in-memory actors, asks and tells, ordering, state inspection. Returns what it saw. */
async function scenario(client: ActorClient): Promise<Record<string, unknown>> {
  const acks: number[][] = [];
  for (let i = 0; i < 30; i++) {
    const seq: number[] = [];
    for (let k = 0; k < 5; k++) seq.push(await client.ask<number>({ kind: 'ledger', id: `acct-${i}` }, { type: 'inc' }));
    acks.push(seq);
  }
  for (let n = 0; n < 200; n++) client.tell({ kind: 'tally', id: `feed-${n % 10}` }, { type: 'inc', from: 'me', n: Math.floor(n / 10) });
  const feeds = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      eventually(async () => {
        const s = await client.ask<{ count: number; log: Array<[string, number]> }>({ kind: 'tally', id: `feed-${i}` }, { type: 'get' });
        return s.count === 20 ? s.log.map(([, n]) => n) : undefined;
      }),
    ),
  );
  const counter = await client.ask<number>({ kind: 'counter', id: 'c' }, { type: 'inc', by: 2 });
  const bad = await client.ask({ kind: 'counter', id: 'c' }, { type: 'inc', by: 'x' }).catch((e: { code: string }) => e.code);
  const info = await client.ask<{ value: unknown; context: { count: number } }>({ kind: 'counter', id: 'c' }, { type: '$inspect' });
  return { acks, feeds, counter, bad, inspected: info.context.count };
}

const EXPECTED = {
  acks: Array.from({ length: 30 }, () => [1, 2, 3, 4, 5]),
  feeds: Array.from({ length: 10 }, () => Array.from({ length: 20 }, (_, n) => n)),
  counter: 2,
  bad: 'BAD_MESSAGE',
  inspected: 2,
};

describe('same scenario in every placement', { timeout: 120_000 }, () => {
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  const buses: Bus[] = [];
  let embeddedNode: GatehouseNode | undefined;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await embeddedNode?.stop();
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    for (const b of buses) await b.close().catch(() => undefined);
    await nats?.stop();
  });

  async function natsClient(prefix: string, nodes: string[]) {
    const bus = await createNatsBus({ prefix, servers: [nats.url] });
    buses.push(bus);
    const store = createNatsStore({ connection: bus.connection, prefix });
    let seen = 'nothing read';
    await eventually(async () => {
      const leases = await readLeases(store);
      const owners = ownersOf(leases);
      seen = `${leases.size} leases: ${[...owners].map(([n, c]) => `${n}=${c}`).join(' ')}; moving ${[...leases.values()].filter((l) => l.st === 'moving').length}`;
      return nodes.every((n) => (owners.get(n) ?? 0) > 0) && [...owners.keys()].every((o) => nodes.includes(o));
    }, { timeoutMs: 45_000, intervalMs: 100, what: `shards spread over ${nodes.join(', ')}` }).catch((err: Error) => {
      throw new Error(`${err.message} (last seen: ${seen})`);
    });
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 5000 });
    // A lease is written before its owner subscribes (it sees the lease a moment later): wait until every actor of
    // the scenario answers (`get` changes nothing).
    const probes = [...Array.from({ length: 30 }, (_, i) => ({ kind: 'ledger', id: `acct-${i}` })), ...Array.from({ length: 10 }, (_, i) => ({ kind: 'tally', id: `feed-${i}` }))];
    await eventually(async () => (await Promise.all(probes.map((p) => client.ask(p, { type: 'get' }).then(() => true, () => false)))).every(Boolean), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'every actor of the scenario answering',
    });
    return client;
  }

  it('embedded: one process, in-memory bus and store', async () => {
    const embedded = createEmbedded();
    const config = testConfig({ prefix: 'pl-emb', actors: { shards: SHARDS }, log: { level: 'silent' }, node: { builtinApps: ['demo'] } });
    embeddedNode = await startNode({ config, apps: defaultApps(config), embedded, log: silentLogger });
    const client = new ActorClient(embedded.broker.connect({ prefix: 'pl-emb' }), { shards: SHARDS, askTimeoutMs: 5000 });
    expect(await scenario(client)).toEqual(EXPECTED);
  });

  /** On failure, what the nodes said (warnings and errors) goes with the test's error. */
  const explainFailure = () =>
    onTestFailed(() => {
      for (const p of procs) process.stderr.write(`--- node process ${p.pid} ---\n${p.output().slice(-6000)}\n`);
    });

  it('worker threads: one process, two worker-thread nodes over NATS', async () => {
    explainFailure();
    procs.push(await startNodeProcess({ natsUrl: nats.url, prefix: 'pl-thr', id: 'thr', threads: 2, roles: 'worker', extra: DEMO_ONLY }));
    expect(await scenario(await natsClient('pl-thr', ['thr-t0', 'thr-t1']))).toEqual(EXPECTED);
  });

  it('processes: three node processes over NATS', async () => {
    explainFailure();
    for (const id of ['p1', 'p2', 'p3']) procs.push(await startNodeProcess({ natsUrl: nats.url, prefix: 'pl-proc', id, extra: DEMO_ONLY }));
    expect(await scenario(await natsClient('pl-proc', ['p1', 'p2', 'p3']))).toEqual(EXPECTED);
  });
});
