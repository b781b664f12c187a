/**
 * The chat page in headless Chromium with authentication on (gateway.auth.mode token, chat not anonymous): the page
 * opened with `?token=…` connects and enters a room; opened without one it is refused (the SDK reports UNAUTHORIZED,
 * the enter button never enables). The run without auth is chat-browser.test.ts.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { testKeys, type TestKeys } from '../support/auth.js';


describe('chat web page with authentication on, in headless Chromium', () => {
  let gw: GatewayNode;
  let keys: TestKeys;
  let context: BrowserContext;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    keys = await testKeys();
    gw = await startGatewayNode({ apps: [chatApp], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
    browser = await launchBrowser();
    context = browser.context;
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await keys?.dispose();
  });

  it('connects with ?token= and enters a room', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${gw.httpUrl}/chat/?token=${encodeURIComponent(await keys.token({ sub: 'ann' }))}`);
    await page.locator('#enter:enabled').waitFor({ timeout: 15_000 });
    await page.fill('#name', 'ann');
    await page.fill('#room', 'lobby');
    await page.click('#enter');
    await page.locator('#chat').waitFor({ state: 'visible' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('without a token the gateway refuses the page (4100): it never gets to enter', async () => {
    const page = await context.newPage();
    await page.goto(`${gw.httpUrl}/chat/`);
    await expect(page.locator('#enter:enabled').waitFor({ timeout: 3000 })).rejects.toThrow();
    expect(gw.gateway!.connections).toBe(0);
    await page.close();
  });
});
