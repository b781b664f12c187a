/**
 * The gateway's HTTP side and TLS: `GET /entry` hands out the least-loaded gateway (load from the registry bucket),
 * web/ files are served as they are and nothing outside them, the browser SDK's module graph is served under /sdk/
 * and runs from those URLs in a runtime that can only import over HTTP; and every listener speaks TLS when given a
 * certificate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/node.js';
import { ManualClock } from '../../common/clock.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';

describe('gateway HTTP: entry endpoint, web pages, browser SDK', () => {
  const clock = new ManualClock();
  const embedded = createEmbedded(clock);
  const web = mkdtempSync(join(tmpdir(), 'gh-web-'));
  let a: GatewayNode;
  let b: GatewayNode;
  beforeAll(async () => {
    writeFileSync(join(web, 'index.html'), '<h1>hi</h1>');
    mkdirSync(join(web, 'chat'));
    writeFileSync(join(web, 'chat', 'app.css'), 'body{}');
    const apps = [createEchoApp()];
    a = await startGatewayNode({ apps, embedded, clock, id: 'gw-a', webRoot: web });
    b = await startGatewayNode({ apps, embedded, clock, id: 'gw-b', roles: ['gateway'], webRoot: web });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    rmSync(web, { recursive: true, force: true });
  });

  const get = (url: string, init?: RequestInit) => fetch(url, init);

  it('answers /entry with the least-loaded gateway, per protocol', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connect({ url: a.wsUrl, reconnect: false })));
    clock.advance(2500); // the registry refresh publishes a's load
    const entry = await eventually(async () => {
      const e = (await (await get(`${a.httpUrl}/entry`)).json()) as { node: string; port: number; load: number; urls: Record<string, string> };
      return e.node === 'gw-b' ? e : undefined;
    }, { what: 'entry to pick the idle gateway' });
    expect(entry).toMatchObject({ node: 'gw-b', host: '127.0.0.1', port: b.gateway!.ports.ws, load: 0 });
    expect(entry.urls.ws).toBe(b.wsUrl);
    const pomelo = (await (await get(`${a.httpUrl}/entry?protocol=pomelo`)).json()) as { port: number };
    expect(pomelo.port).toBe(b.gateway!.ports.pomeloWs);
    // The SDK can find its gateway through the entry endpoint alone.
    const viaEntry = await connect({ entry: `${a.httpUrl}/entry`, reconnect: false });
    expect(await viaEntry.request('whoami')).toMatchObject({ node: 'gw-b' });
    await Promise.all([...clients, viaEntry].map((c) => c.close()));
  });

  it('serves web/ as it is, and nothing outside it', async () => {
    const index = await get(`${a.httpUrl}/`);
    expect([index.status, await index.text()]).toEqual([200, '<h1>hi</h1>']);
    const css = await get(`${a.httpUrl}/chat/app.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await get(`${a.httpUrl}/chat`, { redirect: 'manual' })).status).toBe(301);
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/chat/..%2f..%2fpackage.json', '/nope.html']) {
      expect((await get(`${a.httpUrl}${path}`)).status, path).toBe(404);
    }
    expect((await get(`${a.httpUrl}/`, { method: 'POST' })).status).toBe(405);
  });

  it('serves the SDK module graph (and only it) with msgpackr’s browser build', async () => {
    const seen = new Set<string>();
    const queue = ['gatehouse.js'];
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await get(`${a.httpUrl}/sdk/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain('javascript');
      const text = await res.text();
      for (const m of text.matchAll(/\b(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        expect(spec, `${path} imports ${spec}`).toMatch(/^\.\.?\//);
        queue.push(new URL(spec, `http://x/${path}`).pathname.slice(1));
      }
    }
    expect([...seen]).toEqual(expect.arrayContaining(['client/browser.js', 'vendor/msgpackr/index.js', 'protocol/native/codec.js']));
    expect([...seen].some((p) => p.includes('node') && !p.startsWith('vendor/'))).toBe(false);
    expect((await get(`${a.httpUrl}/sdk/server/node.js`)).status).toBe(404);
    expect((await get(`${a.httpUrl}/sdk/client/node.js`)).status).toBe(404);
  });

  it('the served SDK runs where modules can only come over HTTP (no Node imports anywhere in it)', async () => {
    // Node's network imports refuse `node:` built-ins for modules loaded over HTTP, as a browser has none.
    const script = `
      const { connect } = await import(${JSON.stringify(`${a.httpUrl}/sdk/gatehouse.js`)});
      const c = await connect({ url: ${JSON.stringify(a.wsUrl)}, reconnect: false });
      console.log(JSON.stringify(await c.request('echo', { from: 'browser sdk' })));
      await c.close();`;
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--experimental-websocket', '--experimental-network-imports', '--no-warnings', '--input-type=module', '-e', script]);
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.stderr.on('data', (d) => (text += d));
      const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
      p.on('exit', (code) => {
        clearTimeout(t);
        if (code === 0) resolve(text);
        else reject(new Error(`SDK run failed (${code}):\n${text}`));
      });
    });
    expect(JSON.parse(out.trim())).toEqual({ from: 'browser sdk' });
  });
});

describe('gateway over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tls-'));
  let gw: GatewayNode;
  beforeAll(async () => {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { tls: { certFile: cert, keyFile: key } } });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks wss, TLS over TCP and https, and reports those URLs', async () => {
    const urls = gw.gateway!.urls;
    expect(urls['native ws']).toMatch(/^wss:\/\//);
    expect(urls['native tcp']).toMatch(/^tls:\/\//);
    for (const url of [urls['native ws']!, urls['native tcp']!]) {
      const c = await connect({ url, reconnect: false, rejectUnauthorized: false });
      expect(await c.request('echo', url)).toBe(url);
      await c.close();
    }
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest(urls['entry (http)']!, { rejectUnauthorized: false }, (res) => {
        let t = '';
        res.on('data', (d) => (t += d));
        res.on('end', () => resolve(t));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(body)).toMatchObject({ urls: { ws: urls['native ws'] } });
  });
});
