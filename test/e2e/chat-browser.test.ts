/**
 * The chat page in a real browser: Debian's Chromium, headless, driven by playwright-core, against a gateway node
 * serving web/chat/ and the browser SDK. Two tabs (two sessions) enter a room, see each other arrive, talk to
 * everyone and privately, a third is refused a taken name, then both switch rooms on their open connections.
 * Screenshots go to test-artifacts/ (gitignored) for a human to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { ROOT } from '../../dev/procs.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');

describe('chat web page in headless Chromium', () => {
  let gw: GatewayNode;
  let context: BrowserContext;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [chatApp], embedded: createEmbedded() });
    browser = await launchBrowser();
    context = browser.context;
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  async function openPage(): Promise<Page> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${gw.httpUrl}/chat/`);
    // The button is enabled once the SDK has connected through the entry endpoint.
    await page.locator('#enter:enabled').waitFor({ timeout: 15_000 });
    expect(problems).toEqual([]);
    return page;
  }

  async function enter(page: Page, name: string, room: string) {
    await page.fill('#name', name);
    await page.fill('#room', room);
    await page.click('#enter');
    await page.locator('#chat').waitFor({ state: 'visible' });
    expect(await page.locator('#enter-form').isHidden()).toBe(true);
  }

  async function say(page: Page, text: string, to = '*') {
    await page.selectOption('#target', to);
    await page.fill('#text', text);
    await page.click('#send');
    await expectText(page.locator('#text'), '', 'value');
  }

  const members = (page: Page) => page.locator('#members li');
  const log = (page: Page) => page.locator('#log li');

  async function expectText(loc: ReturnType<Page['locator']>, text: string, what: 'text' | 'value' = 'text') {
    await expect
      .poll(async () => (what === 'value' ? loc.inputValue() : loc.allInnerTexts().then((t) => t.join('\n'))), { timeout: 10_000 })
      .toContain(text);
  }

  it('two tabs chat, privately too, and switch rooms without reconnecting', async () => {
    const ann = await openPage();
    const ben = await openPage();

    await enter(ann, 'ann', 'tavern');
    await enter(ben, 'ben', 'tavern');
    await expect.poll(() => members(ann).allInnerTexts(), { timeout: 10_000 }).toEqual(['ann', 'ben']);
    await expect.poll(() => members(ben).allInnerTexts()).toEqual(['ann', 'ben']);
    await expectText(log(ann), 'ben joined');

    await say(ann, 'hello ben');
    await expectText(log(ben), 'ann: hello ben');
    await say(ben, 'a secret', 'ann');
    await expectText(log(ann), 'ben (to you): a secret');
    await expectText(log(ben), 'ben (to ann): a secret');

    // A third tab cannot take a name already in the room.
    const eve = await openPage();
    await eve.fill('#name', 'ann');
    await eve.fill('#room', 'tavern');
    await eve.click('#enter');
    await expectText(eve.locator('#error'), 'NAME_TAKEN');
    expect(await eve.locator('#chat').isHidden()).toBe(true);
    await eve.close();

    // Switch rooms on the same connection: the old room sees a leave, the new one an arrival.
    const sockets = { ann: 0, ben: 0 };
    for (const [who, page] of [['ann', ann], ['ben', ben]] as const) page.on('websocket', () => sockets[who]++);
    await ben.fill('#switch-room', 'garden');
    await ben.click('#switch');
    await expectText(ben.locator('#current-room'), 'garden');
    await expect.poll(() => members(ben).allInnerTexts()).toEqual(['ben']);
    await expectText(log(ann), 'ben left');
    await expect.poll(() => members(ann).allInnerTexts()).toEqual(['ann']);

    await ann.fill('#switch-room', 'garden');
    await ann.click('#switch');
    await expectText(log(ben), 'ann joined');
    await say(ann, 'nice garden');
    await expectText(log(ben), 'ann: nice garden');
    // The switch kept what was said in the tavern on screen.
    await expectText(log(ann), 'ben (to you): a secret');
    await expect.poll(() => members(ann).allInnerTexts()).toEqual(['ben', 'ann']);
    expect(sockets).toEqual({ ann: 0, ben: 0 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await ann.screenshot({ path: join(ARTIFACTS, 'chat-browser-ann.png'), fullPage: true });
    await ben.screenshot({ path: join(ARTIFACTS, 'chat-browser-ben.png'), fullPage: true });

    // Leaving takes ann back to the entry form and tells ben.
    await ann.click('#leave');
    await ann.locator('#enter-form').waitFor({ state: 'visible' });
    await expectText(log(ben), 'ann left');
  }, 90_000); // a real browser on a shared 2-core machine: generous, the steps themselves wait for what they need

  it('a reloaded tab resumes its session and is back in its room', async () => {
    const cat = await openPage();
    await enter(cat, 'cat', 'attic');
    await cat.reload();
    await cat.locator('#chat').waitFor({ state: 'visible', timeout: 15_000 });
    await expectText(cat.locator('#current-room'), 'attic');
    await expect.poll(() => members(cat).allInnerTexts()).toEqual(['cat']);
    await cat.close();
  }, 60_000);
});
