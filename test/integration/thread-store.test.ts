/**
 * The thread store's server side under a hostile or vanishing thread: garbage from a port is refused by field,
 * counted and survived; a port that closes takes its watches with it; the bounds answer with their codes; closing
 * either end fails the calls still pending with CLOSED. Both ends run in this thread on a MessageChannel (real workers
 * are shown by test/integration/thread-bus.test.ts; the store's semantics by the store contract's `thread` run).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MemoryKvServer } from '../../bus/memory-store.js';
import type { KvBucket, KvChange, Store } from '../../bus/store.js';
import { ThreadStoreServer, type ThreadStoreLimits } from '../../bus/thread/store-server.js';
import { createThreadStore } from '../../bus/thread/thread-store.js';
import { ConflictError } from '../../common/errors.js';
import { openLmdbStore } from '../../bus/lmdb-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Answer {
  op: string;
  id?: number;
  code?: string;
  message?: string;
  v?: unknown;
}

describe('thread store server', () => {
  const opened: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  function serve(store: Store, limits?: Partial<ThreadStoreLimits>): ThreadStoreServer {
    const server = new ThreadStoreServer(store, { limits });
    opened.push(store, server);
    return server;
  }

  function connect(server: ThreadStoreServer): { store: Store; port: MessagePort } {
    const { port1, port2 } = new MessageChannel();
    server.serve(port1);
    const store = createThreadStore(port2);
    opened.push(store);
    return { store, port: port2 };
  }

  /** A raw port on `server`, to send what createThreadStore never would. */
  function raw(server: ThreadStoreServer): { port: MessagePort; answers: Answer[] } {
    const { port1, port2 } = new MessageChannel();
    server.serve(port1);
    const answers: Answer[] = [];
    port2.on('message', (m: Answer) => answers.push(m));
    opened.push(port2);
    return { port: port2, answers };
  }

  it('refuses garbage from a port by field, counts it, and keeps serving that port and others', async () => {
    const server = serve(new MemoryKvServer().store('ts'));
    const { port, answers } = raw(server);
    port.postMessage({ op: 'bucket', id: 1, b: 'g' });
    const garbage: unknown[] = [
      42,
      null,
      { op: 5 },
      { op: 'get', b: 'g', k: 'a' },
      { op: 'get', id: 2, b: 'nope', k: 'a' },
      { op: 'put', id: 3, b: 'g', k: 'a', v: 'not bytes' },
      { op: 'put', id: 4, b: 'g', k: 7, v: new Uint8Array(1) },
      { op: 'update', id: 5, b: 'g', k: 'a', v: new Uint8Array(1), e: -1 },
      { op: 'delete', id: 6, b: 'g', k: 'a', e: 'latest' },
      { op: 'watch', id: 7, b: 'g', i: 'yes' },
      { op: 'bucket', id: 8, b: 'g', ttl: 1.5 },
      { op: 'unwatch' },
      { op: 'nope', id: 9, b: 'g' },
    ];
    for (const g of garbage) port.postMessage(g);
    port.postMessage({ op: 'put', id: 10, b: 'g', k: 'a', v: enc('ok') });
    await expect.poll(() => answers.some((a) => a.id === 10)).toBe(true);
    const errs = answers.filter((a) => a.op === 'err');
    expect(errs.map((e) => e.code)).toEqual(Array(garbage.length).fill('BAD_FRAME'));
    expect(errs.map((e) => e.message)).toEqual([
      'message is not an object with a string `op`',
      'message is not an object with a string `op`',
      'message is not an object with a string `op`',
      'get frame: field id must be a whole number ≥ 0',
      'get frame: bucket "nope" is not open on this port',
      'put frame: field v must be bytes',
      'put frame: field k must be a string',
      'update frame: field e must be a whole number ≥ 0',
      'delete frame: field e must be a whole number ≥ 0',
      'watch frame: field i must be a boolean',
      'bucket frame: field ttl must be a whole number ≥ 0',
      'unwatch frame: field id must be a whole number ≥ 0',
      'unknown op "nope"',
    ]);
    // Answered with the call's id wherever it had a valid one.
    expect(errs.slice(4).map((e) => e.id)).toEqual([2, 3, 4, 5, 6, 7, 8, undefined, 9]);
    expect(server.stats().badMessages).toBe(garbage.length);
    expect(answers.find((a) => a.id === 10)).toMatchObject({ op: 'ok', v: expect.any(Number) });

    // A thread store on the same server is served as before and sees the raw port's write.
    const { store } = connect(server);
    const b = await store.bucket('g');
    expect(dec((await b.get('a'))!.value)).toBe('ok');
    await expect(b.create('a', enc('again'))).rejects.toBeInstanceOf(ConflictError);
  });

  it('stops the watches of a port that closes', async () => {
    const kv = new MemoryKvServer();
    const server = serve(kv.store('ts'));
    const { store, port } = connect(server);
    const b = await store.bucket('w');
    const got: KvChange[] = [];
    await b.watch((c) => got.push(c), { key: 'k.>' });
    await b.watch((c) => got.push(c));
    expect(server.stats().watches).toBe(2);

    const local = await kv.store('ts').bucket('w');
    await local.put('k.1', enc('seen'));
    await expect.poll(() => got.length).toBe(2);
    // The thread ends: its end of the channel closes; the server hears it and stops both watches.
    port.close();
    await expect.poll(() => server.stats().connections).toBe(0);
    expect(server.stats().watches).toBe(0);
    await local.put('k.2', enc('unseen'));
    await new Promise((r) => setTimeout(r, 20));
    expect(got.map((c) => dec(c.value))).toEqual(['seen', 'seen']);

    // A watch stopped by the thread is stopped on the server too.
    const { store: s2 } = connect(server);
    const w = await (await s2.bucket('w')).watch(() => undefined);
    expect(server.stats().watches).toBe(1);
    w.stop();
    await expect.poll(() => server.stats().watches).toBe(0);
  });

  it('answers the bounds with their codes: value bytes, key length, watches, buckets (calls in flight: below)', async () => {
    const server = serve(new MemoryKvServer().store('ts'), { maxValueBytes: 1024, maxKeyChars: 16, maxWatches: 2, maxBuckets: 2 });
    const { store } = connect(server);
    const b = await store.bucket('bounds');
    // The server's bound (the thread side's own check is at its default, 1 MiB).
    await expect(b.put('big', new Uint8Array(1025))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'put frame: value of 1025 bytes is over the limit of 1024',
    });
    expect(await b.put('fits', new Uint8Array(1024))).toBeGreaterThan(0);
    // The thread side's check, at once: nothing is sent.
    const { port1, port2 } = new MessageChannel();
    server.serve(port1);
    const small = createThreadStore(port2, { maxValueBytes: 8 });
    opened.push(small);
    await expect((await small.bucket('bounds')).put('k', new Uint8Array(9))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'put value of 9 bytes is over the limit of 8',
    });
    await expect(b.put('k'.repeat(17), enc('x'))).rejects.toMatchObject({ code: 'BAD_KEY', message: 'put frame: field k of 17 chars is over the limit of 16' });
    await expect(b.keys('p'.repeat(17))).rejects.toMatchObject({ code: 'BAD_KEY' });
    await b.watch(() => undefined);
    await b.watch(() => undefined);
    await expect(b.watch(() => undefined)).rejects.toMatchObject({ code: 'LIMIT', message: 'at most 2 watches per thread' });
    await store.bucket('second');
    await expect(store.bucket('third')).rejects.toMatchObject({ code: 'LIMIT', message: 'at most 2 buckets open per thread' });
    expect(server.stats()).toMatchObject({ limited: 5, badMessages: 0, watches: 2 });
  });

  it('copies values both ways: the caller may reuse its buffer, and what it reads is its own', async () => {
    const kv = new MemoryKvServer();
    const server = serve(kv.store('ts'));
    const { store } = connect(server);
    const b: KvBucket = await store.bucket('copy');
    const buf = enc('first');
    await b.put('k', buf);
    buf.set(enc('XXXXX'));
    expect(buf.byteLength).toBe(5); // copied, not transferred: the caller's buffer is intact
    const e = await b.get('k');
    expect(dec(e!.value)).toBe('first');
    e!.value.set(enc('YYYYY'));
    expect(dec((await (await kv.store('ts').bucket('copy')).get('k'))!.value)).toBe('first');
  });

  it('fails pending calls with CLOSED when either end closes', async () => {
    const server = serve(new MemoryKvServer().store('ts'));
    const { store } = connect(server);
    const b = await store.bucket('c');
    const pending = b.put('k', enc('x')).catch((e: { code: string }) => e.code);
    await store.close();
    expect(await pending).toBe('CLOSED');
    await expect(b.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.bucket('c')).rejects.toMatchObject({ code: 'CLOSED' });

    // A store that never answers: the server's close ends its ports, and the thread's calls fail.
    const never = new Promise<never>(() => undefined);
    const hung: Store = {
      kind: 'memory',
      bucket: async (name) => ({ name, get: () => never } as unknown as KvBucket),
      close: async () => undefined,
    };
    const server2 = serve(hung, { maxRequests: 1 });
    const { store: s2 } = connect(server2);
    const h = await s2.bucket('h');
    const stuck = h.get('k').catch((e: { code: string }) => e.code);
    // The one call in flight is the bound.
    await expect(h.get('k2')).rejects.toMatchObject({ code: 'LIMIT', message: 'at most 1 store calls in flight per thread' });
    await server2.close();
    expect(await stuck).toBe('CLOSED');
    expect(server2.stats()).toMatchObject({ connections: 0, limited: 1 });
  });

  it('fails a call nobody answers with TIMEOUT after timeoutMs, not a hang', async () => {
    const { port1, port2 } = new MessageChannel(); // port1 is never served
    const store = createThreadStore(port2, { timeoutMs: 50 });
    opened.push(store, { close: () => port1.close() });
    await expect(store.bucket('b')).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('within 50 ms') });
  });

  it('serves the LMDB store of embedded mode the same way: CAS, its error classes, watch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-thread-store-'));
    try {
      const served = await openLmdbStore({ path: dir, prefix: 'ts' });
      const server = serve(served);
      const { port1, port2 } = new MessageChannel();
      server.serve(port1);
      const store = createThreadStore(port2, { kind: served.kind });
      opened.push(store);
      expect(store.kind).toBe('lmdb');
      const b = await store.bucket('l');
      const got: string[] = [];
      const w = await b.watch((c) => got.push(`${c.op} ${c.key} ${dec(c.value)}`));
      const r1 = await b.put('a', enc('1'));
      await b.update('a', enc('2'), r1);
      await expect(b.update('a', enc('3'), r1)).rejects.toBeInstanceOf(ConflictError);
      await b.delete('a');
      await expect.poll(() => got).toEqual(['put a 1', 'put a 2', 'delete a ']);
      expect(await b.lastRevision()).toBe(r1 + 2);
      w.stop();
      for (const o of opened.splice(0).reverse()) await o.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
