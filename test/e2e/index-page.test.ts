/**
 * The index page at `/` of the gateway's HTTP port, in headless Chromium: it links the chat page, the lobby
 * playground, the SDK and the docs (listed from /docs/, so only docs that exist), and the console on the node's ops
 * port when the node has one (/links.json). Every link it shows answers 200. The docs are served as text from docs/
 * and nothing else of the package is reachable through /docs/. A screenshot goes to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { lobbyApp } from '../../lobby/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpHandler, links } from '../../gateway/http.js';
import { createSdkFiles } from '../../gateway/sdk-files.js';
import { defaultWebRoot } from '../../gateway/paths.js';
import { silentLogger } from '../../common/logger.js';
import { createEmbedded, startNode } from '../../server/node.js';
import { startOpsHttp } from '../../server/ops-http.js';
import { gatewayComponent, type Gateway } from '../../gateway/gateway.js';
import { withGatewayKinds } from '../../gateway/kinds.js';
import { testConfig } from '../../dev/test-config.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { ROOT } from '../../dev/procs.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');

describe('index page', () => {
  let gw: GatewayNode;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [chatApp, lobbyApp], embedded: createEmbedded() });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  const get = async (path: string) => {
    const res = await fetch(gw.httpUrl + path, { redirect: 'manual' });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it('links the chat page, the lobby playground, the SDK and the docs, and every link answers', async () => {
    const page: Page = await browser!.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${gw.httpUrl}/`);
    await expect.poll(() => page.locator('#docs li').count(), { timeout: 10_000 }).toBeGreaterThan(3);

    expect(await page.locator('#link-chat').getAttribute('href')).toBe('/chat/');
    expect(await page.locator('#link-lobby').getAttribute('href')).toBe('/lobby/');
    expect(await page.locator('#link-sdk').getAttribute('href')).toBe('/sdk/gatehouse.js');
    const docs = await page.locator('#docs li').allInnerTexts();
    for (const d of ['SDK', 'LOBBY', 'CHAT', 'PROTOCOL']) expect(docs).toContain(d);
    // This test node has no ops endpoint: the console card says where it lives instead of linking nowhere.
    expect(await page.locator('#link-console').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#console-text').innerText()).toContain('/console');

    const hrefs = await page.locator('a[href^="/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(hrefs.length).toBeGreaterThan(8);
    for (const href of new Set(hrefs)) expect({ href, status: (await get(href)).status }).toEqual({ href, status: 200 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'index-page.png'), fullPage: true });

    // Following the lobby link lands on a playground that connects.
    await page.click('#link-lobby');
    await page.locator('#login:enabled').waitFor({ timeout: 15_000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('the console link points at the ops port when the node has one', async () => {
    expect(links({ nodeStatus: () => ({ ops: { url: 'http://127.0.0.1:7390' } }) }).console).toBe('http://127.0.0.1:7390/console/');
    expect(links({ nodeStatus: () => ({ ops: { url: null } }) }).console).toBeNull();
    expect(links({}).console).toBeNull();
    expect(JSON.parse((await get('/links.json')).text)).toMatchObject({ chat: '/chat/', lobby: '/lobby/', console: null });
    // web/console/ is the ops port's page: the gateway port does not serve it (here: no ops endpoint, so it says where).
    const c = await get('/console/');
    expect(c.status).toBe(404);
    expect(c.text).toContain('ops port');

    // With an ops endpoint, /console/ on the gateway port sends the browser there. The node's status (a walk over
    // every component) is read once the URL is known, and at most every 5 s while it is not.
    let calls = 0;
    let opsUrl: string | null = null;
    let now = 0;
    const handler = createHttpHandler({
      webRoot: defaultWebRoot(),
      sdk: createSdkFiles(),
      entry: () => Promise.reject(new Error('unused')),
      log: silentLogger,
      now: () => now,
      nodeStatus: () => (calls++, { ops: { url: opsUrl } }),
    });
    const server = createServer(handler).listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ask = async () => {
        const res = await fetch(`${base}/console/`, { redirect: 'manual' });
        await res.text();
        return [res.status, res.headers.get('location')];
      };
      expect(await ask()).toEqual([404, null]);
      opsUrl = 'http://127.0.0.1:7390';
      expect(await ask()).toEqual([404, null]); // not read again yet
      expect(calls).toBe(1);
      now += 5000;
      expect(await ask()).toEqual([302, 'http://127.0.0.1:7390/console/']);
      for (let i = 0; i < 3; i++) expect(await ask()).toEqual([302, 'http://127.0.0.1:7390/console/']);
      expect(JSON.parse(await (await fetch(`${base}/links.json`)).text()).console).toBe('http://127.0.0.1:7390/console/');
      expect(calls).toBe(2);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('on a node with an ops endpoint, the console card links the ops port\'s console, which answers', async () => {
    const config = testConfig({
      prefix: 'idx',
      node: { roles: ['gateway', 'worker'], capacity: 1, threads: 0 },
      bus: { kind: 'memory' },
      log: { level: 'silent', pretty: false },
      actors: { shards: 8 },
      metrics: { enabled: true, port: 0 },
      gateway: { wsPort: 0, tcpPort: 0, pomeloWsPort: 0, pomeloTcpPort: 0, httpPort: 0 },
    });
    const node = await startNode({
      config,
      apps: withGatewayKinds([chatApp]),
      embedded: createEmbedded(),
      log: silentLogger,
      components: [gatewayComponent({}), (ctx) => startOpsHttp(ctx, ctx.status)],
    });
    const page = await browser!.context.newPage();
    try {
      const gateway = node.components.find((c) => c.name === 'gateway') as Gateway;
      await page.goto(`http://127.0.0.1:${gateway.ports.http}/`);
      await page.locator('#link-console').waitFor({ state: 'visible', timeout: 10_000 });
      const href = (await page.locator('#link-console').getAttribute('href'))!;
      expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
      expect(href).not.toContain(`:${gateway.ports.http}/`);
      const res = await fetch(href);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<html');
    } finally {
      await page.close();
      await node.stop();
    }
  }, 60_000);

  it('serves docs as text and nothing else of the package through /docs/', async () => {
    const sdk = await get('/docs/SDK.md');
    expect(sdk.status).toBe(200);
    expect(sdk.type).toContain('text/plain');
    expect(sdk.text).toContain('gatehouse/client/node');
    expect((await get('/docs')).status).toBe(301);
    for (const bad of ['/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/sdk.md', '/docs/NOPE.md', '/docs/SDK.md/x', '/docs/.env']) {
      expect({ bad, status: (await get(bad)).status }).toEqual({ bad, status: 404 });
    }
  });
});
