/**
 * The console's bounds and guards on one in-process node (memory bus): event streams beyond `metrics.consoleClients`
 * are refused with 503 and counted (gatehouse_console_refused_total), closed streams free their place; moves need the
 * confirmation header naming the shard and a same-origin request; a kind with secret fields is never recorded; the
 * page and the cluster stream's first snapshot are served; `gatehouse top`'s table is formatted from console beats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { gatewayKindsApp } from '../../gateway/kinds.js';
import { createEmbedded, type GatehouseNode } from '../../server/node.js';
import { formatTop } from '../../bin/commands/top.js';
import { startTestNode } from '../support/cluster-nodes.js';
import { eventually } from '../../dev/wait.js';

describe('console bounds and guards', () => {
  let node: GatehouseNode;
  let ops = '';
  const open: AbortController[] = [];

  beforeAll(async () => {
    node = await startTestNode({ prefix: 'conlim', id: 'n1', apps: [gatewayKindsApp, chatApp], embedded: createEmbedded(), overrides: { metrics: { enabled: true, port: 0, consoleClients: 2 } } });
    ops = String((node.status().ops as { url: string }).url).replace(/\/$/, '');
  });
  afterAll(async () => {
    for (const c of open) c.abort();
    await node?.stop();
  });

  /** Opens the cluster stream; resolves with the status and, for a 200, the first event's text. */
  async function stream(): Promise<{ status: number; first?: string }> {
    const ctl = new AbortController();
    open.push(ctl);
    const res = await fetch(`${ops}/console/events`, { signal: ctl.signal });
    if (res.status !== 200) return { status: res.status };
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value);
    return { status: 200, first: text };
  }
  const metric = async (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(await (await fetch(`${ops}/metrics`)).text())?.[1]);

  it('serves the page and refuses streams beyond metrics.consoleClients, counting them', async () => {
    const page = await fetch(`${ops}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('gatehouse console');
    const a = await stream();
    expect(a.status).toBe(200);
    expect(a.first).toContain('"self":"n1"');
    expect((await stream()).status).toBe(200);
    expect((await stream()).status).toBe(503);
    expect(await metric('gatehouse_console_refused_total')).toBe(1);
    expect(await metric('gatehouse_console_clients')).toBe(2);
    open.shift()!.abort();
    await eventually(async () => (await metric('gatehouse_console_clients')) === 1, { what: 'the closed stream leaves' });
    expect((await stream()).status).toBe(200);
  });

  it('moves only with the confirmation naming the shard, from the same origin', async () => {
    const post = (headers: Record<string, string>) => fetch(`${ops}/console/move`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ kind: 'chat-room', shard: 1, to: 'n1' }) });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-gatehouse-confirm': 'chat-room.2' })).status).toBe(403);
    expect((await post({ 'x-gatehouse-confirm': 'chat-room.1', origin: 'http://evil.example' })).status).toBe(403);
    const ok = await post({ 'x-gatehouse-confirm': 'chat-room.1' });
    // Confirmed: refused or done on its merits (n1 is the only node here), never for want of confirmation.
    expect(ok.status).not.toBe(403);
  });

  it('never records a kind with secret fields', async () => {
    const res = await fetch(`${ops}/console/record`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gatehouse-confirm': 'record' }, body: JSON.stringify({ kind: 'session', id: 'x' }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('secret');
  });

  it("formats top's table from console beats", () => {
    const beat = { node: 'n1', at: 0, cpu: 12.5, rssMb: 80, actors: 3, shards: 16, msgsPerSec: 40, perKind: { 'chat-room': 2 }, turnsPerKind: { 'chat-room': 35 }, apps: {} };
    const out = formatTop(new Map([['n1', { beat, at: 1000 }]]), 1500);
    expect(out).toMatch(/n1\s+12\.5\s+80\s+40\s+3\s+16\s+up/);
    expect(out).toMatch(/chat-room\s+35\s+2/);
  });
});
