/**
 * The lobby playground (web/lobby/) in headless Chromium, against an embedded gateway node with the lobby (a small
 * tree) on free ports. Two players in two tabs log in, browse servers → gates → cities with their counts, one reserves
 * and opens a city, the other finds it by browsing and enters, they chat and whisper, form a quest circle (create,
 * join, ready) and depart, then befriend each other and search. With authentication on, the page asks for a token and
 * logs in only as a Capcom ID the token lists. Screenshots go to test-artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { testKeys, type TestKeys } from '../support/auth.js';
import { ROOT } from '../../dev/procs.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const TREE = { ...LOBBY_DEFAULTS, servers: ['Open', 'Rookie'] as const, gatesPerServer: 3, citiesPerGate: 4 };

describe('lobby playground in headless Chromium', () => {
  let gw: GatewayNode;
  let context: BrowserContext;
  let browser: TestBrowser | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [createLobbyApp({ ...TREE, servers: [...TREE.servers] })], embedded: createEmbedded() });
    browser = await launchBrowser();
    context = browser.context;
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  async function openPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${gw.httpUrl}/lobby/`);
    await page.locator('#login:enabled').waitFor({ timeout: 15_000 });
    return page;
  }

  async function login(page: Page, id: string, name: string, hr: number) {
    await page.fill('#capcom-id', id);
    await page.fill('#name', name);
    await page.fill('#hr', String(hr));
    await page.selectOption('#weapon', 'hammer');
    await page.click('#login');
    await page.locator('#app').waitFor({ state: 'visible' });
    await expectText(page.locator('#me'), `${name} (${id}) HR ${hr} · hammer`);
  }

  const row = (page: Page, list: string, id: string) => page.locator(`#${list} li[data-id="${id}"]`);

  async function expectText(loc: ReturnType<Page['locator']>, text: string) {
    await expect.poll(() => loc.allInnerTexts().then((t) => t.join('\n')), { timeout: 10_000 }).toContain(text);
  }

  /** Walks the browse list from the top down to a server's gates (servers → Gates). */
  async function browseTo(page: Page, server: string) {
    await page.locator('#crumbs button', { hasText: 'servers' }).click();
    await row(page, 'browse-list', server).locator('button.browse').click();
    await row(page, 'browse-list', `${server}-g01`).waitFor();
  }

  it('two players browse, meet in a city, chat, form a quest circle and depart', async () => {
    const ann = await openPage();
    const ben = await openPage();
    await login(ann, 'ANN001', 'Ann', 50);
    await login(ben, 'BEN002', 'Ben', 20);

    // Servers with their types and counts; Ann walks down into s01 and its gate 2.
    await expectText(row(ann, 'browse-list', 's01'), 'Open');
    await expectText(row(ann, 'browse-list', 's02'), 'Rookie');
    await row(ann, 'browse-list', 's01').locator('button.enter').click();
    await expectText(ann.locator('#loc'), 's01');
    await row(ann, 'browse-list', 's01-g02').locator('button.enter').click();
    await expectText(ann.locator('#loc'), 's01 › s01-g02');

    // Ben sees the counts move while he looks (the list refreshes itself): s01 has 1, its gate 2 has 1.
    await expectText(row(ben, 'browse-list', 's01'), '1/2000');
    await row(ben, 'browse-list', 's01').locator('button.browse').click();
    await expectText(row(ben, 'browse-list', 's01-g02'), '1/100');

    // Ann reserves an empty city and opens it with a goal.
    await row(ann, 'browse-list', 's01-g02-c03').locator('button.reserve').click();
    await ann.locator('#open-form').waitFor({ state: 'visible' });
    await ann.fill('#open-goal', 'Lagiacrus');
    await ann.click('#open');
    await expectText(ann.locator('#loc'), 's01-g02-c03');
    await ann.locator('#city').waitFor({ state: 'visible' });
    await expectText(ann.locator('#city-settings'), 'goal Lagiacrus');

    // Ben browses down from the top to the gate, sees the open city with Ann leading it, and walks in through the gate.
    await browseTo(ben, 's01');
    await row(ben, 'browse-list', 's01-g02').locator('button.enter').click();
    await expectText(ben.locator('#loc'), 's01 › s01-g02');
    await expectText(row(ben, 'browse-list', 's01-g02-c03'), 'Ann · Lagiacrus');
    await expectText(row(ben, 'browse-list', 's01-g02-c03'), '1/4');
    await row(ben, 'browse-list', 's01-g02-c03').locator('button.enter').click();
    await expectText(ben.locator('#loc'), 's01-g02-c03');
    await expect.poll(() => ann.locator('#members li').allInnerTexts(), { timeout: 10_000 }).toEqual(['Ann · 50', 'Ben · 20']);
    await expectText(ann.locator('#log'), 'Ben came in');

    // City chat, and a whisper that only Ann hears.
    await ann.fill('#text', 'welcome to my city');
    await ann.click('#send');
    await expectText(ben.locator('#log'), 'Ann: welcome to my city');
    await ben.selectOption('#target', 'w:ANN001');
    await ben.fill('#text', 'thanks!');
    await ben.click('#send');
    await expectText(ann.locator('#log'), 'Ben (whispers): thanks!');
    await expectText(ben.locator('#log'), 'Ben (whisper to Ann): thanks!');

    // A quest circle: Ann creates it, Ben sees it listed and joins, gets ready; Ann departs with him.
    await ann.fill('#circle-goal', 'Lagiacrus');
    await ann.click('#create-circle');
    await ann.locator('#my-circle').waitFor({ state: 'visible' });
    const circle = 's01-g02-c03-q1';
    await row(ben, 'circles', circle).locator('button.join').click();
    await ben.locator('#my-circle').waitFor({ state: 'visible' });
    await expectText(ann.locator('#circle-members'), 'Ben · HR 20 · not ready');
    await ben.click('#ready');
    await expectText(ann.locator('#circle-members'), 'Ben · HR 20 · ready');
    await ann.click('#depart');
    await expectText(ann.locator('#circle-state'), 'departed');
    await expectText(ben.locator('#circle-state'), 'departed');
    await expectText(ben.locator('#log'), `circle ${circle} departed on Lagiacrus!`);
    await expectText(row(ben, 'circles', circle), 'departed');

    // Friends: Ann finds Ben by name and asks; Ben accepts; Ann sees him online, in the city.
    await ann.fill('#player-q', 'be');
    await ann.click('#search-players');
    await row(ann, 'player-hits', 'BEN002').locator('button.befriend').click();
    await row(ben, 'pending-list', 'ANN001').locator('button.accept').click();
    await expectText(row(ann, 'friend-list', 'BEN002'), 'online in s01-g02-c03');
    // City search: Ben finds Ann's city by a piece of its goal.
    await ben.fill('#city-goal', 'lagia');
    await ben.click('#search-cities');
    await expectText(row(ben, 'city-hits', 's01-g02-c03'), 'Ann · Lagiacrus');

    mkdirSync(ARTIFACTS, { recursive: true });
    await ann.screenshot({ path: join(ARTIFACTS, 'lobby-browser-ann.png'), fullPage: true });
    await ben.screenshot({ path: join(ARTIFACTS, 'lobby-browser-ben.png'), fullPage: true });

    // A reload resumes the session (its ticket is kept in sessionStorage): Ann is back in her city, logged in.
    await ann.reload();
    await ann.locator('#app').waitFor({ state: 'visible', timeout: 15_000 });
    await expectText(ann.locator('#loc'), 's01 › s01-g02 › s01-g02-c03');
    await expect.poll(() => ann.locator('#members li').allInnerTexts(), { timeout: 10_000 }).toEqual(['Ann · 50', 'Ben · 20']);

    // Names and messages are other people's input: they show as text, never as markup.
    const eve = await openPage();
    await login(eve, 'EVE003', '<b>Eve</b>', 30);
    await browseTo(eve, 's01');
    await row(eve, 'browse-list', 's01-g02').locator('button.browse').click();
    await row(eve, 'browse-list', 's01-g02-c03').locator('button.enter').click();
    await expectText(eve.locator('#loc'), 's01-g02-c03');
    await eve.fill('#text', '<img src=x onerror=alert(1)>');
    await eve.click('#send');
    await expectText(ann.locator('#members'), '<b>Eve</b> · 30');
    await expectText(ann.locator('#log'), '<b>Eve</b>: <img src=x onerror=alert(1)>');
    expect(await ann.locator('#members b, #log b, #log img').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 150_000); // a real browser on a shared 2-core machine: generous, the steps themselves wait for what they need
});

describe('lobby playground with authentication on, in headless Chromium', () => {
  let gw: GatewayNode;
  let keys: TestKeys;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    keys = await testKeys();
    gw = await startGatewayNode({ apps: [createLobbyApp({ ...TREE, servers: [...TREE.servers] })], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await keys?.dispose();
  });

  it('asks for a token, logs in with one, and only as a Capcom ID the token lists', async () => {
    const page = await browser!.context.newPage();
    await page.goto(`${gw.httpUrl}/lobby/`);
    // Refused without a token (4100): the form stays usable, the status says what is missing.
    await expect.poll(() => page.locator('#status').innerText(), { timeout: 15_000 }).toBe('this gateway wants a token');
    await page.locator('#login:enabled').waitFor();
    await page.fill('#token', await keys.token({ sub: 'carol', capcomIds: ['CAR003'] }));
    await page.fill('#capcom-id', 'DAV004');
    await page.fill('#name', 'Carol');
    await page.click('#login');
    await expect.poll(() => page.locator('#error').innerText(), { timeout: 15_000 }).toContain('NOT_YOUR_ID');
    await page.fill('#capcom-id', 'CAR003');
    await page.click('#login');
    await page.locator('#app').waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(() => page.locator('#me').innerText()).toContain('Carol (CAR003)');
    await page.close();

    // ?token= in the URL connects at once.
    const other = await browser!.context.newPage();
    await other.goto(`${gw.httpUrl}/lobby/?token=${encodeURIComponent(await keys.token({ sub: 'dave', capcomIds: ['DAV004'] }))}`);
    await expect.poll(() => other.locator('#status').innerText(), { timeout: 15_000 }).toBe('connected');
    await other.close();
  }, 60_000);
});
