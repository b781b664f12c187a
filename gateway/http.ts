/**
 * The gateway's HTTP side: `GET /entry` (the least-loaded gateway, like Pomelo's gate), the browser SDK under
 * `/sdk/`, the docs under `/docs/` (the Markdown files of docs/, as text), `/links.json` (where the index page's links
 * go: the node's console sits on the ops port, which only the node knows; `/console/` here redirects there), and
 * static files from web/ as they are (no build step; `/` is web/index.html). Only GET and HEAD; paths are resolved inside their root, never above it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdir } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Protocol } from './connection.js';
import type { GatewayEntry } from '../node-api/gateway-app.js';
import type { SdkFiles } from './sdk-files.js';
import { defaultDocsRoot } from './paths.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** A doc's file name: upper-case Markdown files at the top of docs/ (README-style names), nothing else. */
const DOC_RE = /^[A-Z][A-Z0-9_-]{0,63}\.md$/;

export interface HttpOptions {
  webRoot: string;
  /** docs/ of the package (default: paths.ts). */
  docsRoot?: string;
  sdk: SdkFiles;
  /** The node's status (NodeContext.status): its `ops.url` is where the console is. Absent: no console link. */
  nodeStatus?: () => Record<string, unknown>;
  /** Clock for the ops-URL cache (tests); Date.now by default. */
  now?: () => number;
  entry(protocol: Protocol): Promise<GatewayEntry>;
  log: Logger;
}

export function createHttpHandler(opts: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const o = { ...opts, nodeStatus: opts.nodeStatus && cachedOpsStatus(opts.nodeStatus, opts.now ?? Date.now) };
  return (req, res) => {
    handle(o, req, res).catch((err: unknown) => {
      o.log.warn({ err, url: req.url }, 'http request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  };
}

async function handle(o: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  if (path === '/entry') {
    const protocol = url.searchParams.get('protocol') === 'pomelo' ? 'pomelo' : 'native';
    try {
      const e = await o.entry(protocol);
      // Pages served by another origin may ask too.
      return send(res, 200, TYPES['.json']!, JSON.stringify(e), { 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
    } catch (err) {
      return send(res, 503, TYPES['.json']!, JSON.stringify({ code: 'UNAVAILABLE', message: (err as Error).message }));
    }
  }
  // web/console/ belongs to the ops port (its page calls the ops port's /console/ API): here it would be a page
  // whose every action fails. Send the browser to the real one, or say where it is.
  if (path === '/console' || path.startsWith('/console/')) {
    const to = links(o).console;
    if (!to) return send(res, 404, 'text/plain; charset=utf-8', "the console is served on the node's ops port (metrics.port) at /console/\n");
    res.writeHead(302, { location: to, 'cache-control': 'no-store' });
    return void res.end();
  }
  if (path === '/links.json') return send(res, 200, TYPES['.json']!, JSON.stringify(links(o)), { 'cache-control': 'no-store' });
  if (path === '/docs' || path.startsWith('/docs/')) return serveDocs(o.docsRoot ?? defaultDocsRoot(), path, req, res);
  if (path.startsWith('/sdk/')) {
    const text = await o.sdk.read(path.slice('/sdk/'.length));
    if (text === undefined) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return send(res, 200, TYPES['.js']!, text, { 'cache-control': 'no-cache' });
  }
  return serveStatic(o.webRoot, path, req, res);
}

/** Where the index page links: pages of this gateway, and the console on the node's ops port when it has one. */
export function links(o: Pick<HttpOptions, 'nodeStatus'>): Record<string, string | null> {
  let ops: unknown;
  try {
    ops = (o.nodeStatus?.().ops as { url?: unknown } | undefined)?.url;
  } catch {
    ops = undefined;
  }
  return {
    chat: '/chat/',
    lobby: '/lobby/',
    sdk: '/sdk/gatehouse.js',
    docs: '/docs/',
    console: typeof ops === 'string' && ops ? `${ops.replace(/\/$/, '')}/console/` : null,
  };
}

/** How long a missing ops URL is believed before the node's status is read again (the ops port may start later). */
const OPS_RECHECK_MS = 5000;

/**
 * The node's status is a walk over all its components (actor counts included): anyone can ask for /links.json or
 * /console/, so it is read once the ops URL is known, and at most every OPS_RECHECK_MS while it is not.
 */
function cachedOpsStatus(status: () => Record<string, unknown>, now: () => number): () => Record<string, unknown> {
  let url: string | undefined;
  let checkedAt = -Infinity;
  return () => {
    if (url === undefined && now() - checkedAt >= OPS_RECHECK_MS) {
      checkedAt = now();
      const u = (status().ops as { url?: unknown } | undefined)?.url;
      if (typeof u === 'string' && u) url = u;
    }
    return { ops: { url: url ?? null } };
  };
}

/** `/docs/`: a plain list of the docs; `/docs/NAME.md`: one of them as text. */
async function serveDocs(root: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (path === '/docs') {
    res.writeHead(301, { location: '/docs/' });
    return void res.end();
  }
  const name = path.slice('/docs/'.length);
  if (name === '') {
    const files = (await readdir(root).catch(() => [] as string[])).filter((f) => DOC_RE.test(f)).sort();
    const body = `gatehouse docs\n\n${files.map((f) => `/docs/${f}`).join('\n')}\n`;
    return send(res, 200, TYPES['.txt']!, body, { 'cache-control': 'no-cache' });
  }
  if (!DOC_RE.test(name)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  return serveStatic(root, '/' + name, req, res);
}

async function serveStatic(root: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(path);
  } catch {
    return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
  }
  if (rel.includes('\0')) return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
  let file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  let st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) {
    if (!path.endsWith('/')) {
      res.writeHead(301, { location: path + '/' });
      res.end();
      return;
    }
    file = join(file, 'index.html');
    st = await stat(file).catch(() => undefined);
  }
  if (!st?.isFile()) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  res.writeHead(200, {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': st.size,
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
