/**
 * The thread bus with real worker threads: workers on ports served by one ThreadBroker in this thread meet on its
 * MemoryBroker (pub/sub, request/reply), a responder terminated mid-request fails the asker's request instead of
 * leaving it hanging, and ports sending garbage are refused, counted and survived.
 *
 * Workers cannot load TypeScript and this suite must not depend on a built dist/ (GH_SKIP_BUILD=1 runs skip the
 * build): the worker script (test/support/thread-worker.ts) and the sources it imports are transpiled with the
 * project's TypeScript (transpileModule: no type check, tsc does that) into a directory under .tmp/ (git-ignored,
 * inside the repo so `pino` and `msgpackr` resolve from its node_modules), removed after the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel, Worker } from 'node:worker_threads';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, transpileTree } from '../support/transpile-tree.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { ThreadBroker } from '../../bus/thread/thread-broker.js';
import { createThreadBus } from '../../bus/thread/thread-bus.js';
import type { GatehouseError } from '../../common/errors.js';
import type { WorkerCmd } from '../support/thread-worker.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);


interface Event {
  ev: string;
  [k: string]: unknown;
}

/** A worker on the thread bus, driven by commands (see thread-worker.ts). */
class Peer {
  private k = 0;
  readonly events: Event[] = [];
  private readonly answers = new Map<number, (r: Record<string, unknown>) => void>();
  private readonly waiters: Array<() => void> = [];

  constructor(readonly worker: Worker) {
    worker.on('message', (m: { k?: number } & Event) => {
      if (typeof m.k === 'number') {
        this.answers.get(m.k)?.(m);
        this.answers.delete(m.k);
        return;
      }
      this.events.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  call(c: WorkerCmd): Promise<Record<string, unknown>> {
    const k = ++this.k;
    return new Promise((res) => {
      this.answers.set(k, res);
      this.worker.postMessage({ k, ...c });
    });
  }

  /** Resolves when `n` events of type `ev` have arrived (bounded: the suite's timeout ends a wait that never does). */
  async until(ev: string, n = 1): Promise<Event[]> {
    for (;;) {
      const got = this.events.filter((e) => e.ev === ev);
      if (got.length >= n) return got;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

describe('thread bus across worker threads', () => {
  let out: string;
  let script: URL;
  const broker = new MemoryBroker();
  const threads = new ThreadBroker({ broker, limits: { maxSubscriptions: 8, maxPayloadBytes: 1024 } });
  const workers: Worker[] = [];

  async function start(prefix = 'tw'): Promise<Peer> {
    const { port1, port2 } = new MessageChannel();
    threads.serve(port1);
    const worker = new Worker(script, { workerData: { port: port2, prefix }, transferList: [port2] });
    workers.push(worker);
    const peer = new Peer(worker);
    worker.on('error', (e) => peer.events.push({ ev: 'error', message: e.message }));
    await peer.until('ready');
    return peer;
  }

  beforeAll(() => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    out = mkdtempSync(join(ROOT, '.tmp', 'thread-bus-'));
    script = pathToFileURL(transpileTree(join(ROOT, 'test', 'support', 'thread-worker.ts'), out));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    await threads.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('two threads exchange pub/sub in order and request/reply through the main-thread broker', async () => {
    const a = await start();
    const b = await start();
    await a.call({ cmd: 'sub', s: 'chat.*' });
    const texts = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await b.call({ cmd: 'pub', s: 'chat.room', texts });
    const got = await a.until('msg', texts.length);
    expect(got.map((e) => e.text)).toEqual(texts);
    expect(got[0]!.s).toBe('chat.room');

    await a.call({ cmd: 'echo', s: 'svc.echo' });
    expect(await b.call({ cmd: 'req', s: 'svc.echo', text: 'ping', t: 5000 })).toEqual({ k: expect.any(Number), ok: true, text: 're:ping' });
    // A main-thread memory bus on the same broker sees the same subjects.
    const local = broker.connect({ prefix: 'tw' });
    const r = await local.request('svc.echo', enc('local'), { timeoutMs: 5000 });
    expect(dec(r.data)).toBe('re:local');
    await local.close();
    // Nobody on another prefix: no responders, at once, with the memory bus's code.
    const other = await start('tx');
    expect(await other.call({ cmd: 'req', s: 'svc.echo', text: 'x', t: 60_000 })).toMatchObject({ ok: false, code: 'NO_RESPONDERS', name: 'NoRespondersError' });
  });

  it('fails the asker when the responder thread is terminated mid-request, and forgets the dead thread', async () => {
    const responder = await start();
    const asker = await start();
    await responder.call({ cmd: 'hang', s: 'svc.hang' });
    const before = threads.stats().connections;
    const t0 = Date.now();
    const asked = asker.call({ cmd: 'req', s: 'svc.hang', text: 'x', t: 800 });
    await responder.until('hang');
    await responder.worker.terminate();
    expect(await asked).toMatchObject({ ok: false, code: 'TIMEOUT', message: 'request to svc.hang timed out after 800 ms' });
    expect(Date.now() - t0).toBeLessThan(5000);
    // The dead thread's port closed: its connection and subscriptions are gone, so the next request fails at once.
    await expect.poll(() => threads.stats().connections).toBe(before - 1);
    expect(await asker.call({ cmd: 'req', s: 'svc.hang', text: 'x', t: 60_000 })).toMatchObject({ ok: false, code: 'NO_RESPONDERS' });
  });

  it('refuses garbage from a port by field, counts it, and keeps serving', async () => {
    const { port1, port2 } = new MessageChannel();
    threads.serve(port1);
    const answers: Array<{ op: string; code?: string; message?: string; id?: number }> = [];
    port2.on('message', (m) => answers.push(m));
    const bad0 = threads.stats().badMessages;
    port2.postMessage({ op: 'hello', prefix: 'tw' });
    const garbage: unknown[] = [
      42,
      null,
      { op: 5 },
      { op: 'pub', s: 'x.y', d: 'not bytes' },
      { op: 'pub', s: '', d: new Uint8Array(1) },
      { op: 'pub', s: 'x.*', d: new Uint8Array(1) },
      { op: 'sub', id: -1, s: 'x' },
      { op: 'req', id: 7, s: 'x', d: new Uint8Array(1), t: 'soon' },
      { op: 'pub', s: 'x', d: new Uint8Array(1), h: { n: 1 } },
      { op: 'pub', s: 'x', d: new Uint8Array(1), h: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
      { op: 'pub', s: 'x', d: new Uint8Array(1), h: { big: 'v'.repeat(4097) } },
      { op: 'nope' },
      { op: 'batch', b: 'not a list' },
      { op: 'batch', b: [{ op: 'batch', b: [] }] },
      { op: 'batch', b: Array.from({ length: 1025 }, () => ({ op: 'flush', id: 1 })) },
    ];
    for (const g of garbage) port2.postMessage(g);
    port2.postMessage({ op: 'pub', s: 'x', d: new Uint8Array(2048) });
    port2.postMessage({ op: 'flush', id: 99 });
    await expect.poll(() => answers.some((a) => a.op === 'ok' && a.id === 99)).toBe(true);
    const errs = answers.filter((a) => a.op === 'err');
    expect(errs.map((e) => e.code)).toEqual([...Array(garbage.length).fill(expect.stringMatching(/^BAD_(FRAME|SUBJECT)$/)), 'PAYLOAD_TOO_LARGE']);
    // A batch (several frames in one post, messages.ts PortOutbox) is checked before its frames are.
    for (const e of errs.slice(12, 15)) expect(e.message).toBe('batch message: field b must be an array of 1-1024 frames, none a batch');
    expect(errs[3]!.message).toBe('pub frame: field d must be bytes');
    expect(errs[7]!).toMatchObject({ id: 7, message: 'req frame: field t must be a whole number ≥ 0' });
    // Headers are bounded in count and size: a port has no frame size limit (bus/socket/frames.ts).
    for (const e of errs.slice(8, 11)) expect(e.message).toBe('pub frame: field h must be a map of at most 64 strings of at most 4096 chars, names included');
    expect(threads.stats().badMessages - bad0).toBe(garbage.length);

    // A port whose first message is not a hello is answered and closed.
    const { port1: q1, port2: q2 } = new MessageChannel();
    threads.serve(q1);
    const closed = new Promise<void>((r) => q2.once('close', () => r()));
    const first = new Promise<{ code: string; message: string }>((r) => q2.once('message', r));
    q2.postMessage({ op: 'pub', s: 'x', d: new Uint8Array(1) });
    expect(await first).toMatchObject({ code: 'BAD_FRAME', message: 'first message must be hello, not "pub"' });
    await closed;

    // Workers are still served.
    const a = await start();
    const b = await start();
    await a.call({ cmd: 'echo', s: 'svc.after' });
    expect(await b.call({ cmd: 'req', s: 'svc.after', text: 'ok?', t: 5000 })).toMatchObject({ ok: true, text: 're:ok?' });
    port2.close();
  });

  it('bounds subscriptions per port and fails pending requests with CLOSED when the broker closes', async () => {
    const own = new ThreadBroker({ broker, limits: { maxSubscriptions: 2 } });
    const { port1, port2 } = new MessageChannel();
    own.serve(port1);
    const bus = createThreadBus(port2, { prefix: 'tb' });
    const errors: string[] = [];
    bus.onStatus((s) => s.type === 'error' && errors.push((s.error as GatehouseError).code));
    const subs = [1, 2, 3].map((i) => bus.subscribe(`s.${i}`, () => undefined));
    await bus.flush();
    expect(subs.map((s) => s.closed)).toEqual([false, false, true]);
    expect(errors).toEqual(['LIMIT']);
    expect(own.stats().limited).toBe(1);
    // Checked before sending, too: a payload over the limit throws at once.
    expect(() => bus.publish('s.big', new Uint8Array(2 * 1024 * 1024))).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));

    const hung = broker.connect({ prefix: 'tb' }).subscribe('s.1', () => undefined);
    const pending = bus.request('s.1', enc('x'), { timeoutMs: 60_000 }).catch((e: { code: string }) => e.code);
    await bus.flush();
    await own.close();
    expect(await pending).toBe('CLOSED');
    expect(bus.isClosed).toBe(true);
    expect(() => bus.publish('s.1', enc('late'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    hung.unsubscribe();
  });
});
