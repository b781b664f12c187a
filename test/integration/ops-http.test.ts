import { afterAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createEmbedded, type GatehouseNode } from '../../server/node.js';
import { demoApp } from '../../actors/demo/counter.js';
import { startTestNode } from '../support/cluster-nodes.js';
import { eventually } from '../../dev/wait.js';

describe('ops endpoint', () => {
  let node: GatehouseNode | undefined;
  afterAll(async () => node?.stop());

  it('serves Prometheus metrics, JSON status and the operator console', async () => {
    const embedded = createEmbedded();
    node = await startTestNode({ prefix: 'ops', id: 'ops-1', apps: [demoApp], embedded });
    const url = (node.status().ops as { url: string }).url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await eventually(() => node!.host.ownedShards().length > 0);
    const client = new ActorClient(embedded.broker.connect({ prefix: 'ops' }), { shards: 16, askTimeoutMs: 5000 });
    for (let i = 0; i < 3; i++) await client.ask({ kind: 'counter', id: `c${i}` }, { type: 'inc' });
    const metrics = await (await fetch(url + 'metrics')).text();
    expect(metrics).toMatch(/gatehouse_actors\{kind="counter",node="ops-1",prefix="ops"\} 3/);
    expect(metrics).toMatch(/gatehouse_processed_total\{[^}]*\} [3-9]/);
    expect(metrics).toMatch(/process_cpu_seconds_total/);
    const status = (await (await fetch(url + 'status')).json()) as { node: string; cluster: { leader: boolean } };
    expect(status).toMatchObject({ node: 'ops-1', cluster: { leader: true } });
    // `/` leads to the console (web/console), which replaced the old status page.
    const home = await fetch(url);
    expect(home.url).toMatch(/\/console\/$/);
    expect(await home.text()).toContain('<title>gatehouse console</title>');
    expect((await fetch(url + 'nope')).status).toBe(404);
  });
});
