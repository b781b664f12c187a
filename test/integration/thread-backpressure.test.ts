/**
 * Bytes waiting in a MessagePort are bounded (bus/thread/port-credit.ts). With a real worker thread: one whose event
 * loop is blocked (Atomics.wait on a SharedArrayBuffer the test releases) is a slow consumer, so the broker drops its
 * messages past the bound (counted, logged naming the port) and turns a reply to it into SLOW_CONSUMER, holding at
 * most the bound and one frame; once released it gets what was queued and the connection works. A worker publishing
 * in one synchronous run (no ack can reach it) is refused with SLOW_CONSUMER at the bound and goes on once acked.
 * In this thread, on ports whose acks the test controls: the thread bus and thread store refuse their sends over the
 * bound until acked, the store server drops watch changes to a thread that does not ack, and bad acks are refused.
 *
 * The worker imports the thread bus transpiled into .tmp/ (as test/integration/thread-bus.test.ts does, so
 * GH_SKIP_BUILD=1 runs need no dist/); its script is written there too, removed after the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, transpileTree } from '../support/transpile-tree.js';
import pino from 'pino';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { MemoryKvServer } from '../../bus/memory-store.js';
import type { BusMsg } from '../../bus/bus.js';
import { framesOf } from '../../bus/thread/messages.js';
import { FRAME_OVERHEAD, frameCost } from '../../bus/thread/port-credit.js';
import { ThreadBroker } from '../../bus/thread/thread-broker.js';
import { createThreadBus } from '../../bus/thread/thread-bus.js';
import { ThreadStoreServer } from '../../bus/thread/store-server.js';
import { createThreadStore } from '../../bus/thread/thread-store.js';

const BOUND = 256 * 1024;
const SIZE = 8 * 1024;


/** The worker: a thread bus on prefix `bp` with the test's bound, driven by commands, reporting events. */
const WORKER = `
import { parentPort as out, workerData } from 'node:worker_threads';
import { createThreadBus } from './bus/thread/thread-bus.js';
const { port, bound, gate } = workerData;
const bus = createThreadBus(port, { prefix: 'bp', maxQueuedBytes: bound });
const held = new Int32Array(gate);
let got = 0;
bus.subscribe('bp.data', () => { got++; });
bus.subscribe('bp.mark', () => out.postMessage({ ev: 'mark', got }));
bus.subscribe('bp.echo', (m) => bus.respond(m, m.data));
const flood = (n, size) => {
  let sent = 0;
  try {
    for (; sent < n; sent++) bus.publish('bp.in', new Uint8Array(size));
    return { sent };
  } catch (e) {
    return { sent, code: e.code, message: e.message };
  }
};
out.on('message', (c) => {
  if (c.cmd === 'block') {
    out.postMessage({ ev: 'blocking' });
    Atomics.wait(held, 0, 0); // until the test stores 1: no timer, no message, nothing runs here
    out.postMessage({ ev: 'released' });
  } else if (c.cmd === 'req') {
    bus.request(c.s, new Uint8Array(1), { timeoutMs: 30000 }).then(
      () => out.postMessage({ ev: 'res', ok: true }),
      (e) => out.postMessage({ ev: 'res', ok: false, code: e.code, message: e.message }),
    );
  } else if (c.cmd === 'flood') {
    // One synchronous run: no ack can arrive meanwhile. The flush is answered after the broker's ack of them.
    const r = flood(c.n, c.size);
    void bus.flush().then(() => out.postMessage({ ev: 'flooded', ...r }));
  }
});
void bus.flush().then(() => out.postMessage({ ev: 'ready' }));
`;

interface Event {
  ev: string;
  [k: string]: unknown;
}

class Peer {
  readonly events: Event[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(readonly worker: Worker) {
    worker.on('message', (m: Event) => {
      this.events.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    worker.on('error', (e) => this.events.push({ ev: 'error', message: e.message }));
  }

  /** Resolves with the `n`th event of type `ev` (bounded: the suite's timeout ends a wait that never does). */
  async until(ev: string, n = 1): Promise<Event> {
    for (;;) {
      const got = this.events.filter((e) => e.ev === ev);
      if (got.length >= n) return got[n - 1]!;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

describe('thread bus backpressure with worker threads', () => {
  let out: string;
  let script: URL;
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const broker = new MemoryBroker();
  const threads = new ThreadBroker({ broker, log, limits: { maxQueuedBytes: BOUND } });
  const workers: Worker[] = [];
  const gates: Int32Array[] = [];

  function start(): Peer {
    const { port1, port2 } = new MessageChannel();
    threads.serve(port1);
    const gate = new SharedArrayBuffer(4);
    gates.push(new Int32Array(gate));
    const worker = new Worker(script, { workerData: { port: port2, bound: BOUND, gate }, transferList: [port2] });
    workers.push(worker);
    return new Peer(worker);
  }

  const release = (g: Int32Array) => {
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
  };

  beforeAll(() => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    out = mkdtempSync(join(ROOT, '.tmp', 'thread-bp-'));
    transpileTree(join(ROOT, 'bus', 'thread', 'thread-bus.ts'), out);
    const file = join(out, 'bp-worker.js');
    writeFileSync(file, WORKER);
    script = pathToFileURL(file);
  });

  afterAll(async () => {
    for (const g of gates) release(g); // a failed test must not leave a worker blocked
    await Promise.all(workers.map((w) => w.terminate()));
    await threads.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('drops messages to a blocked thread past the bound, counted and logged; it catches up once released', async () => {
    const peer = start();
    await peer.until('ready');
    const local = broker.connect({ prefix: 'bp' });
    let held: BusMsg | undefined;
    local.subscribe('bp.slow', (m) => void (held = m));
    peer.worker.postMessage({ cmd: 'req', s: 'bp.slow' });
    await expect.poll(() => held).toBeDefined();
    peer.worker.postMessage({ cmd: 'block' });
    await peer.until('blocking');

    // 200 messages of 8 KiB (1.6 MiB) to a thread that reads nothing, then the reply to its request.
    for (let i = 0; i < 200; i++) local.publish('bp.data', new Uint8Array(SIZE));
    await local.flush();
    local.respond(held!, new Uint8Array(100));
    await local.flush();
    const s = threads.stats();
    const frame = SIZE + FRAME_OVERHEAD + 'bp.data'.length;
    expect(s.slowConsumerDrops).toBeGreaterThan(150);
    expect(s.queuedBytesMax).toBeGreaterThanOrEqual(BOUND);
    expect(s.queuedBytesMax).toBeLessThanOrEqual(BOUND + frame);
    expect(lines[0]).toMatchObject({ port: 'thread bus port 1 (prefix bp)', op: 'msg', dropped: 1, maxQueuedBytes: BOUND });

    release(gates[0]!);
    await peer.until('released');
    // The reply became an error the thread sees at once, not a silent loss waiting for its timeout.
    expect(await peer.until('res')).toMatchObject({ ok: false, code: 'SLOW_CONSUMER', message: expect.stringContaining(`maxQueuedBytes ${BOUND}`) });
    // Every message either reached the thread or was counted as dropped (one drop is the reply).
    local.publish('bp.mark', new Uint8Array(0));
    const mark = await peer.until('mark');
    expect((mark.got as number) + s.slowConsumerDrops - 1).toBe(200);
    expect(mark.got).toBeGreaterThan(25);
    // Its acks came back: a threshold (64 KiB) or less unread, and the connection works both ways.
    await expect.poll(() => threads.stats().queuedBytesMax).toBeLessThan(BOUND / 4);
    for (let i = 0; i < 20; i++) local.publish('bp.data', new Uint8Array(SIZE));
    local.publish('bp.mark', new Uint8Array(0));
    expect((await peer.until('mark', 2)).got).toBe((mark.got as number) + 20);
    expect(threads.stats().slowConsumerDrops).toBe(s.slowConsumerDrops);
    expect((await local.request('bp.echo', new Uint8Array([7]), { timeoutMs: 5000 })).data).toEqual(new Uint8Array([7]));
    local.subscribe('bp.ok', (m) => local.respond(m, new Uint8Array(1)));
    await local.flush();
    peer.worker.postMessage({ cmd: 'req', s: 'bp.ok' });
    expect(await peer.until('res', 2)).toMatchObject({ ok: true });
    await local.close();
  });

  it('refuses a thread\'s publishes with SLOW_CONSUMER at the bound within one synchronous run, then goes on', async () => {
    const peer = start();
    await peer.until('ready');
    const local = broker.connect({ prefix: 'bp' });
    let got = 0;
    local.subscribe('bp.in', () => void got++);
    await local.flush();
    peer.worker.postMessage({ cmd: 'flood', n: 100, size: SIZE });
    const first = await peer.until('flooded');
    const perFrame = SIZE + FRAME_OVERHEAD;
    expect(first).toMatchObject({ code: 'SLOW_CONSUMER', message: expect.stringContaining(`at the limit of maxQueuedBytes ${BOUND}`) });
    expect(first.sent).toBeGreaterThanOrEqual(Math.floor(BOUND / perFrame) - 1);
    expect(first.sent).toBeLessThanOrEqual(Math.ceil(BOUND / perFrame));
    // Nothing lost unseen: the broker got exactly what the thread did not refuse; after its acks the thread sends again.
    peer.worker.postMessage({ cmd: 'flood', n: 10, size: SIZE });
    expect(await peer.until('flooded', 2)).toEqual({ ev: 'flooded', sent: 10 });
    await expect.poll(() => got).toBe((first.sent as number) + 10);
    await local.close();
  });
});

describe('port credit on ports whose acks the test controls', () => {
  /** The frames arriving at `port`, batches opened. */
  function reader(port: MessagePort): Array<Record<string, unknown>> {
    const got: Array<Record<string, unknown>> = [];
    port.on('message', (m: unknown) => got.push(...(framesOf(m) as Array<Record<string, unknown>>)));
    return got;
  }
  const cost = (frames: unknown[]) => frames.reduce<number>((n, f) => n + frameCost(f), 0);

  it('the thread bus refuses publishes and requests past the bound until its broker acks; subscribe still goes', async () => {
    const { port1, port2 } = new MessageChannel();
    const got = reader(port1);
    const bus = createThreadBus(port2, { prefix: 'fb', maxQueuedBytes: 64 * 1024 });
    let sent = 0;
    expect(() => {
      for (; sent < 100; sent++) bus.publish('fb.x', new Uint8Array(1024));
    }).toThrow(expect.objectContaining({ code: 'SLOW_CONSUMER', message: expect.stringContaining('maxQueuedBytes 65536') }));
    expect(sent).toBe(61); // hello (64) + 61 × 1 088 ≥ 64 KiB
    await expect(bus.request('fb.y', new Uint8Array(1))).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
    bus.subscribe('fb.z', () => undefined);
    await expect.poll(() => got.length).toBe(1 + 61 + 1);
    // The broker acks what it handled, then answers a flush: after it, publishing goes again.
    const flushed = bus.flush();
    await expect.poll(() => got.at(-1)?.op).toBe('flush');
    port1.postMessage({ op: 'ack', n: cost(got) });
    port1.postMessage({ op: 'ok', id: got.at(-1)!.id });
    await flushed;
    bus.publish('fb.x', new Uint8Array(1024));
    await expect.poll(() => got.at(-1)?.op).toBe('pub');
    await bus.close();
    port1.close();
  });

  it('the broker refuses a bad ack by field and counts it', async () => {
    const threads = new ThreadBroker();
    const { port1, port2 } = new MessageChannel();
    threads.serve(port1);
    const got = reader(port2);
    port2.postMessage({ op: 'hello', prefix: 'fb' });
    port2.postMessage({ op: 'ack', n: 1 }); // nothing was sent to this port yet
    port2.postMessage({ op: 'ack', n: -5 });
    port2.postMessage({ op: 'flush', id: 3 });
    await expect.poll(() => got.some((f) => f.op === 'ok' && f.id === 3)).toBe(true);
    const errs = got.filter((f) => f.op === 'err');
    expect(errs.map((e) => [e.code, e.message])).toEqual(Array(2).fill(['BAD_FRAME', expect.stringMatching(/^ack frame: field n must be a whole number of bytes from 1 to \d+/)]));
    expect(threads.stats().badMessages).toBe(2);
    port2.close();
    await threads.close();
  });

  it('the store server drops watch changes to a thread that does not ack, answers entries with SLOW_CONSUMER, and resumes', async () => {
    const store = new MemoryKvServer().store('fs');
    const server = new ThreadStoreServer(store, { limits: { maxQueuedBytes: 64 * 1024 } });
    const { port1, port2 } = new MessageChannel();
    server.serve(port1);
    const got = reader(port2);
    port2.postMessage({ op: 'bucket', id: 1, b: 'k' });
    port2.postMessage({ op: 'watch', id: 2, b: 'k' });
    await expect.poll(() => got.filter((f) => f.op === 'ok').length).toBe(2);
    const b = await store.bucket('k');
    for (let i = 0; i < 40; i++) await b.put(`k${i}`, new Uint8Array(4096));
    port2.postMessage({ op: 'entries', id: 3, b: 'k' });
    await expect.poll(() => got.some((f) => f.id === 3)).toBe(true);
    const s = server.stats();
    const changes = got.filter((f) => f.op === 'chg').length;
    expect(changes).toBe(16); // 2 answers (128) + 16 × 4 163 ≥ 64 KiB
    expect(s.slowConsumerDrops).toBe(40 - 16 + 1);
    expect(s.queuedBytesMax).toBeLessThanOrEqual(64 * 1024 + 4096 + FRAME_OVERHEAD + 3);
    expect(got.find((f) => f.id === 3)).toMatchObject({ op: 'err', code: 'SLOW_CONSUMER' });
    // The thread acks what it handled: changes flow again.
    port2.postMessage({ op: 'ack', n: cost(got) });
    await expect.poll(() => server.stats().queuedBytesMax).toBe(0);
    await b.put('after', new Uint8Array(10));
    await expect.poll(() => got.at(-1)).toMatchObject({ op: 'chg', k: 'after' });
    port2.close();
    await server.close();
    await store.close();
  });

  it('the thread store refuses calls past the bound until its server acks', async () => {
    const { port1, port2 } = new MessageChannel();
    const got = reader(port1);
    const store = createThreadStore(port2, { maxQueuedBytes: 64 * 1024, timeoutMs: 60_000 });
    port1.on('message', (f: { op: string; id: number }) => f.op === 'bucket' && port1.postMessage({ op: 'ok', id: f.id }));
    const b = await store.bucket('k');
    const calls = Array.from({ length: 40 }, (_, i) => b.put(`k${i}`, new Uint8Array(4096)).then(() => 'ok', (e: { code: string }) => e.code));
    await expect(calls[39]).resolves.toBe('SLOW_CONSUMER');
    await expect.poll(() => got.length).toBe(1 + 16); // bucket (64) + 16 × 4 160 ≥ 64 KiB
    port1.postMessage({ op: 'ack', n: cost(got) });
    port1.postMessage({ op: 'ok', id: got[16]!.id, v: 16 });
    expect(await calls[15]).toBe('ok');
    const after = b.put('after', new Uint8Array(1));
    await expect.poll(() => got.at(-1)?.k).toBe('after');
    await store.close();
    expect(await after.catch((e: { code: string }) => e.code)).toBe('CLOSED');
    expect((await Promise.all(calls)).filter((c) => c === 'SLOW_CONSUMER')).toHaveLength(40 - 16);
    port1.close();
  });
});
