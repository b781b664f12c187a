/**
 * The console's HTTP side on the ops port: the page (web/console, served as it is), the cluster stream (SSE from
 * ClusterFeed), an actor's view and its live transitions (`$inspect` asked by this node, redacted as its kind says;
 * the trace subject with a tap announced), moving a shard (a pin, as `gatehouse move` writes) and flight recordings.
 *
 * Mutations (move, record) are POSTs that need the page's confirmation header and a same-origin request: a page on
 * another site cannot make an operator's browser move shards (a cross-site form cannot set the header, and its
 * Origin differs). The ops port itself binds `gateway.host` (loopback by default): docs/CONSOLE.md, docs/SECURITY.md.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decode, toJsonValue } from '../../bus/codec.js';
import { shardOf, subjects } from '../../bus/subjects.js';
import { announceTap, type TraceRecord } from '../../actors/runtime/trace.js';
import { announceRecording, isRecordFrame, type RecordFrame } from '../../actors/runtime/recorder.js';
import { startRecording, type Recording } from '../../actors/runtime/recorder-collect.js';
import { BUCKETS, decodeRecord, type NodeRecord } from '../../cluster/records.js';
import { inspectActor } from '../../cluster/control.js';
import { errorMessage, GatehouseError } from '../../common/errors.js';
import type { NodeContext } from '../../node-api/node.js';
import { defaultWebRoot } from '../../gateway/paths.js';
import { ClusterFeed } from './feed.js';
import { SseHub, type SseClient } from './sse.js';

const FILES: Record<string, string> = { '': 'index.html', 'index.html': 'index.html', 'console.js': 'console.js', 'console.css': 'console.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
export const CONFIRM_HEADER = 'x-gatehouse-confirm';
/** Recordings kept by one node (running or finished, downloadable), and their longest duration. */
const MAX_RECORDINGS = 4;
const MAX_RECORD_MS = 10 * 60_000;

export interface ConsoleStatus {
  clients: number;
  refused: number;
  dropped: number;
  recordings: number;
}

export class ConsoleRoutes {
  readonly hub: SseHub;
  private readonly feed: ClusterFeed;
  private readonly recordings = new Map<string, Recording>();
  /** The open cluster streams (the hub also holds actor streams). */
  private readonly clusterStreams = new Set<SseClient>();
  private nextRecording = 1;

  constructor(
    private readonly ctx: NodeContext,
    maxClients: number,
  ) {
    this.hub = new SseHub(maxClients);
    const c = ctx.config;
    this.feed = new ClusterFeed(
      { bus: ctx.control, store: ctx.store, clock: ctx.clock, log: ctx.log, deadAfterMs: c.cluster.deadAfterMs, shards: c.actors.shards, heartbeats: c.bus.kind === 'nats' },
      { send: (event, data) => this.hub.broadcast(event, data, (cl) => this.clusterStreams.has(cl)) },
    );
  }

  status(): ConsoleStatus {
    return { ...this.hub.stats, recordings: this.recordings.size };
  }

  /** Answers console paths (true), or leaves the request to the caller (false). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): boolean {
    if (path === '/' || path === '/console') {
      res.writeHead(302, { location: '/console/' }).end();
      return true;
    }
    if (!path.startsWith('/console/')) return false;
    const rest = path.slice('/console/'.length);
    const file = FILES[rest];
    if (file && req.method === 'GET') {
      void this.serveFile(res, file);
      return true;
    }
    const run = (p: Promise<unknown>) => p.then((v) => json(res, 200, v), (err) => json(res, statusOf(err), { code: (err as { code?: string }).code ?? 'ERROR', message: errorMessage(err) }));
    if (rest === 'events' && req.method === 'GET') this.openClusterStream(req, res);
    else if (rest === 'actor' && req.method === 'GET') run(this.actor(url.searchParams.get('kind') ?? '', url.searchParams.get('id') ?? ''));
    else if (rest === 'actor/events' && req.method === 'GET') this.openActorStream(req, res, url.searchParams.get('kind') ?? '', url.searchParams.get('id') ?? '');
    else if (rest === 'move' && req.method === 'POST') run(this.mutating(req).then((b) => this.move(req, b)));
    else if (rest === 'record' && req.method === 'POST') run(this.mutating(req).then((b) => this.record(b)));
    else if (rest.startsWith('record/') && req.method === 'GET') this.recordingFile(res, rest.slice('record/'.length), url.searchParams.has('download'));
    else json(res, 404, { code: 'NOT_FOUND', message: `no console path ${path}` });
    return true;
  }

  private async serveFile(res: ServerResponse, file: string): Promise<void> {
    try {
      const body = await readFile(join(defaultWebRoot(), 'console', file));
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch (err) {
      json(res, 500, { code: 'ERROR', message: errorMessage(err) });
    }
  }

  private openClusterStream(req: IncomingMessage, res: ServerResponse): void {
    const client = this.hub.open(req, res, () => {
      this.clusterStreams.delete(client!);
      if (this.clusterStreams.size === 0) this.feed.stop();
    });
    if (!client) return;
    this.clusterStreams.add(client);
    // A page opened while the node stops (its bus closed) must not become an unhandled rejection: that ends a process.
    this.feed
      .start()
      .then(() => client.send('snapshot', { ...this.feed.view(), self: this.ctx.id, kinds: this.ctx.host.shardedKinds() }))
      .catch((err: unknown) => this.ctx.log.warn({ err }, 'console: cluster stream not started'));
  }

  private openActorStream(req: IncomingMessage, res: ServerResponse, kind: string, id: string): void {
    const k = this.ctx.host.kind(kind);
    if (!k || !id) return json(res, 400, { code: 'BAD_REQUEST', message: 'give kind (a kind of this deployment) and id' });
    const bus = this.ctx.bus;
    let sub: { unsubscribe(): void } | undefined;
    let stopTap = () => undefined as void;
    const client = this.hub.open(req, res, () => {
      sub?.unsubscribe();
      stopTap();
    });
    if (!client) return;
    sub = bus.subscribe(subjects.trace(kind, id), (m) => {
      try {
        const r = decode<TraceRecord | RecordFrame>(m.data);
        if (!isRecordFrame(r)) client.send('transition', r);
        // Every turn, also those that change nothing (a chat line is only pushed): the events it handled.
        else if (r.r === 'turn') client.send('message', { node: r.node, at: r.at, label: r.label, events: toJsonValue(r.events) });
      } catch {
        /* not a trace */
      }
    });
    // A kind with secret fields is never recorded: its stream shows transitions (state values) only.
    stopTap = k.redact?.length ? announceTap(bus, subjects.trace(kind, id)) : announceRecording(bus, kind, id);
  }

  private async actor(kind: string, id: string): Promise<unknown> {
    const k = this.ctx.host.kind(kind);
    if (!k || !id) throw new GatehouseError('BAD_REQUEST', `give kind (one of ${this.ctx.host.shardedKinds().join(', ')}) and id`);
    const shard = shardOf(id, this.ctx.config.actors.shards);
    const lease = await this.ctx.store.bucket(BUCKETS.leases).then((b) => b.get(`${kind}.${shard}`)).catch(() => null);
    const view = await inspectActor(this.ctx.host.client, { kind, id });
    return { shard, lease: lease ? decodeRecord(lease.value) : null, redacted: k.redact ?? [], view };
  }

  /** The body of a confirmed same-origin POST (JSON, at most 4 KiB). */
  private async mutating(req: IncomingMessage): Promise<Record<string, unknown>> {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) throw new GatehouseError('FORBIDDEN', `cross-origin request refused (${origin})`);
    if (!req.headers[CONFIRM_HEADER]) throw new GatehouseError('FORBIDDEN', `missing ${CONFIRM_HEADER} header (the console asks before it sends one)`);
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 4096) throw new GatehouseError('BAD_REQUEST', 'body too large');
    }
    return JSON.parse(body || '{}') as Record<string, unknown>;
  }

  private async move(req: IncomingMessage, b: Record<string, unknown>): Promise<unknown> {
    const kind = String(b.kind ?? '');
    const shard = Number(b.shard);
    const to = String(b.to ?? '');
    const key = `${kind}.${shard}`;
    if (req.headers[CONFIRM_HEADER] !== key) throw new GatehouseError('FORBIDDEN', `the confirmation names ${String(req.headers[CONFIRM_HEADER])}, the move ${key}`);
    if (!this.ctx.host.kind(kind) || !Number.isInteger(shard) || shard < 0 || shard >= this.ctx.config.actors.shards) throw new GatehouseError('BAD_REQUEST', `no shard ${key}`);
    const nodes = (await (await this.ctx.store.bucket(BUCKETS.nodes, { ttlMs: this.ctx.config.cluster.deadAfterMs })).entries()).map((e) => decodeRecord<NodeRecord>(e.value));
    const dest = nodes.find((n) => n.id === to);
    if (!dest || !dest.roles.includes('worker') || dest.draining) throw new GatehouseError('BAD_REQUEST', `${to} is not a live worker that takes shards`);
    await (await this.ctx.store.bucket(BUCKETS.pins)).put(key, new TextEncoder().encode(to));
    this.ctx.log.info({ shard: key, to, by: 'console' }, 'shard pinned from the console');
    return { pinned: key, to };
  }

  private async record(b: Record<string, unknown>): Promise<unknown> {
    const kind = String(b.kind ?? '');
    const id = String(b.id ?? '');
    const k = this.ctx.host.kind(kind);
    if (!k || !id) throw new GatehouseError('BAD_REQUEST', 'give kind and id');
    if (k.redact?.length) throw new GatehouseError('FORBIDDEN', `${kind} declares secret fields (${k.redact.join(', ')}): it is never recorded`);
    const forMs = Math.min(Math.max(Number(b.seconds ?? 60), 1) * 1000, MAX_RECORD_MS);
    if (this.recordings.size >= MAX_RECORDINGS) {
      const oldDone = [...this.recordings].find(([, r]) => r.done);
      if (!oldDone) throw new GatehouseError('BUSY', `${MAX_RECORDINGS} recordings running on this node`);
      this.recordings.delete(oldDone[0]);
    }
    const rid = String(this.nextRecording++);
    this.recordings.set(rid, startRecording(this.ctx.bus, kind, id, { forMs }));
    return { recording: rid, kind, id, seconds: forMs / 1000 };
  }

  private recordingFile(res: ServerResponse, rid: string, download: boolean): void {
    const r = this.recordings.get(rid);
    if (!r) return json(res, 404, { code: 'NOT_FOUND', message: `no recording ${rid}` });
    if (!download) return json(res, 200, { recording: rid, kind: r.kind, id: r.id, done: r.done, frames: r.frames.length, truncated: r.truncated ?? null });
    r.stop();
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="${r.kind}-${r.id.replace(/[^A-Za-z0-9_-]/g, '_')}.rec.jsonl"`, 'cache-control': 'no-store' });
    res.end(r.file());
  }

  stop(): void {
    this.hub.closeAll();
    this.feed.stop();
    for (const r of this.recordings.values()) r.stop();
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function statusOf(err: unknown): number {
  const code = (err as { code?: string }).code;
  return code === 'FORBIDDEN' ? 403 : code === 'BAD_REQUEST' || code === 'BAD_MESSAGE' ? 400 : code === 'NOT_FOUND' ? 404 : code === 'BUSY' ? 503 : 502;
}

