/**
 * The operator console in headless Chromium against a cluster of three `gatehouse node` processes on one nats-server
 * (w1 also a gateway, for chat clients). The page is w1's ops port; everything it shows comes through the bus. Shows,
 * in order: the map with three nodes and every shard owned; a `gatehouse move` appearing as a move and landing; the
 * actor browser streaming a chat room's messages while two clients chat, through a live move of the room's shard,
 * and a recording made and downloaded from the console replaying to the room's state across that move; a drain emptying a node; a killed node turning dead and its shards
 * changing colour (owner). Screenshots go to test-artifacts/console-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { ROOM_KIND } from '../../chat/room.js';
import { shardOf } from '../../bus/subjects.js';
import { chatApp } from '../../chat/index.js';
import { decodeRecording, replayRecording } from '../../actors/runtime/replay.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { ROOT, runCli, startNodeProcess, type Proc } from '../../dev/procs.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

const PREFIX = 'console-e2e';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHAT_ONLY = ['--set', 'node.builtinApps=gateway,chat'];
const GATEWAY_FLAGS = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]);
/** The machine is shared with other test runs: generous bounds, never timing asserts. */
const WAIT = { timeout: 60_000 };

describe('operator console in headless Chromium', () => {
  let nats: NatsServerHandle;
  const procs = new Map<string, Proc>();
  let browser: TestBrowser | undefined;
  let page: Page;
  let gatewayUrl = '';
  const clients: GatehouseClient[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    nats = await startNatsServer();
    const [w1, w2, w3] = await Promise.all([
      startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w1', roles: 'gateway,worker', extra: [...CHAT_ONLY, ...GATEWAY_FLAGS] }),
      startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w2', extra: CHAT_ONLY }),
      startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w3', extra: CHAT_ONLY }),
    ]);
    procs.set('w1', w1!).set('w2', w2!).set('w3', w3!);
    const ops = /status page\s+(http\S+?)\/?\s/.exec(await w1!.waitFor(/status page\s+http/))![1]!;
    gatewayUrl = /(ws:\/\/\S+)/.exec(await w1!.waitFor(/native ws\s+ws:\/\//))![1]!;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => void d.dismiss());
    await page.goto(`${ops}/console/`);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await Promise.all([...procs.values()].map((p) => p.kill('SIGKILL')));
    await nats?.stop();
  });

  const cells = (owner?: string) => page.locator(owner ? `.cell[data-owner="${owner}"]` : '.cell[data-owner]:not([data-owner=""])');
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  const cli = async (args: string[]) => {
    const p = runCli([...args, '--nats', nats.url, '--prefix', PREFIX]);
    const code = await p.exited;
    expect(code, p.output()).toBe(0);
  };

  it('shows three nodes, their shards and the leader', async () => {
    await page.locator('.node[data-state="up"]').nth(2).waitFor(WAIT);
    for (const n of ['w1', 'w2', 'w3']) {
      await page.locator(`.node[data-node="${n}"] [data-field="cpu"]`).filter({ hasText: '%' }).waitFor(WAIT);
      await cells(n).first().waitFor(WAIT);
    }
    await page.locator('.node .leader').waitFor(WAIT);
    expect(await page.locator('#leader').textContent()).toMatch(/^w[123]$/);
    expect(await page.locator(`.kindrow[data-kind="${ROOM_KIND}"] .cell`).count()).toBe(16);
    await shot('map');
    expect(problems).toEqual([]);
  });

  it('shows a `gatehouse move` as a move that lands', async () => {
    const cell = page.locator(`.cell[data-shard="${ROOM_KIND}.3"]`);
    const from = (await cell.getAttribute('data-owner'))!;
    const to = from === 'w2' ? 'w1' : 'w2';
    await cli(['move', `${ROOM_KIND}:3`, '--to', to]);
    await page.locator(`#moves li[data-key="${ROOM_KIND}.3"][data-phase="landed"]`).waitFor(WAIT);
    await page.locator(`.cell[data-shard="${ROOM_KIND}.3"][data-owner="${to}"][data-state="owned"]`).waitFor(WAIT);
    expect(await page.locator(`#moves li[data-key="${ROOM_KIND}.3"]`).first().textContent()).toContain(`${from} → ${to}`);
    await shot('moved');
  });

  it("streams a chat room's transitions in the actor browser while two clients chat; its recording replays", async () => {
    const ann = await connect({ url: gatewayUrl, requestTimeoutMs: 20_000 });
    const ben = await connect({ url: gatewayUrl, requestTimeoutMs: 20_000 });
    clients.push(ann, ben);
    await ann.request('chat.enter', { name: 'ann', room: 'plaza' });
    await page.selectOption('#kind', ROOM_KIND);
    await page.fill('#actor-id', 'plaza');
    await page.click('#find button');
    await page.locator('#actor-where').filter({ hasText: 'shard' }).waitFor(WAIT).catch(async (e) => {
      throw new Error(`${e}: ${await page.locator('#actor-where').textContent()}`);
    });
    expect(await page.locator('#actor-state').textContent()).toContain('ann');
    await page.click('#actor-record');
    await page.locator('#actor-download:not([hidden])').waitFor(WAIT);
    // The stream and the recording start with the nodes' next tap renewal: chat until lines arrive. Private lines (ann
    // and ben to each other) are turns of the room; lines to everyone go out on the room's gateway channel and never
    // reach it (chat.lineFanout).
    await ben.request('chat.enter', { name: 'ben', room: 'plaza' });
    const say = (i: number) => (i % 2 ? ben : ann).request('chat.send', { content: `line ${i}`, target: i % 2 ? 'ann' : 'ben' });
    let n = 0;
    while ((await page.locator('#actor-stream li').count()) < 4) {
      await say(n++);
      await page.waitForTimeout(200); // a bounded poll of the page (the count is asserted, not a time)
      expect(n).toBeLessThan(300);
    }
    expect(await page.locator('#actor-stream').textContent()).toContain('[w');
    // The apps' view: the room with its two members, from the nodes' console beats.
    await page.locator('#rooms li[data-room="plaza"]').filter({ hasText: '2 members' }).waitFor(WAIT);
    await shot('actor');

    // The room's shard moves live while it is recorded: the stream and the recording go on from the new owner.
    const shard = shardOf('plaza', 16);
    const from = (await page.locator(`.cell[data-shard="${ROOM_KIND}.${shard}"]`).getAttribute('data-owner'))!;
    const to = from === 'w1' ? 'w2' : 'w1';
    await cli(['move', `${ROOM_KIND}:${shard}`, '--to', to]);
    while ((await page.locator(`#actor-stream li:has-text("[${to}]")`).count()) < 2) {
      await say(n++);
      await page.waitForTimeout(200);
      expect(n).toBeLessThan(300);
    }

    const href = (await page.locator('#actor-download').getAttribute('href'))!;
    const text = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    const { header, frames } = decodeRecording(text);
    expect(header).toMatchObject({ kind: ROOM_KIND, id: 'plaza' });
    expect(frames.some((f) => f.r === 'turn')).toBe(true);
    const kind = chatApp.kinds.find((k) => k.name === ROOM_KIND)!;
    expect(new Set(frames.filter((f) => f.r === 'base').map((f) => f.node))).toEqual(new Set([from, to]));
    const res = replayRecording(kind, frames);
    expect(res.checkpoints).toEqual([{ node: to, match: true }]);
    expect(res.matches).toBe(true);
    expect((res.final!.context as { members: Array<{ name: string }> }).members.map((m) => m.name)).toEqual(['ann', 'ben']);
  }, 120_000);

  it('shows a drained node emptying and leaving', async () => {
    await cli(['drain', 'w3']);
    await page.locator('.node[data-node="w3"][data-state="left"], .node[data-node="w3"][data-state="dead"]').waitFor(WAIT);
    await page.waitForFunction(() => document.querySelectorAll('.cell[data-owner="w3"]').length === 0, undefined, WAIT);
    procs.delete('w3');
    await shot('drained');
  });

  it('shows a killed node dead, then its shards in the colour of their new owner', async () => {
    await cells('w2').first().waitFor(WAIT);
    await procs.get('w2')!.kill('SIGKILL');
    procs.delete('w2');
    await page.locator('.node[data-node="w2"][data-state="dead"]').waitFor(WAIT);
    await shot('dead');
    await page.waitForFunction(() => document.querySelectorAll('.cell[data-owner="w2"]').length === 0, undefined, WAIT);
    expect(await cells('w1').count()).toBe(await cells().count());
    const colours = await page.$$eval('.cell', (els) => new Set(els.map((e) => getComputedStyle(e).backgroundColor)).size);
    expect(colours).toBe(1);
    await shot('taken-over');
    expect(problems).toEqual([]);
  });
});
