/**
 * The LMDB store beyond the shared contract: one process per data directory (a real second process is refused and
 * named; a lock left by a process killed with -9 is taken over), no acknowledged write lost to kill -9 under
 * compare-and-set load, data and revisions kept across reopening, handles of one process sharing the directory, and
 * the expiry sweep removing entries from disk.
 *
 * Child processes run the compiled store (dist/bus/lmdb-store.js, built by the global set-up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLmdbStore, LOCK_FILE } from '../../bus/lmdb-store.js';
import type { Store } from '../../bus/store.js';
import { ManualClock } from '../../common/clock.js';
import { createLogger } from '../../common/logger.js';
import { eventually } from '../../dev/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST_STORE = pathToFileURL(join(ROOT, 'dist', 'bus', 'lmdb-store.js')).href;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * The child: `hold` opens the store and waits; `load` runs compare-and-set updates on 20 keys, 20 in flight, and
 * prints `ACK key revision value` once each resolved (acknowledged), until killed; `try` only tries to open.
 */
const CHILD = `
const { openLmdbStore } = await import(process.env.GH_STORE_MODULE);
const mode = process.env.GH_MODE;
const enc = (s) => new TextEncoder().encode(s);
let store;
try {
  store = await openLmdbStore({ path: process.env.GH_DIR, prefix: 'p' });
} catch (e) {
  console.log('REFUSED ' + e.code + ' ' + e.holderPid + ' ' + e.message);
  process.exit(0);
}
const b = await store.bucket('b');
console.log('READY ' + process.pid);
if (mode === 'load') {
  const out = [];
  const flush = () => { if (out.length) process.stdout.write(out.splice(0).join('')); };
  setInterval(flush, 5);
  const worker = async (k) => {
    const key = 'k' + k;
    let rev = (await b.get(key))?.revision ?? 0;
    for (let i = 1; ; i++) {
      const value = key + '#' + i;
      rev = rev === 0 ? await b.create(key, enc(value)) : await b.update(key, enc(value), rev);
      out.push('ACK ' + key + ' ' + rev + ' ' + value + '\\n');
    }
  };
  for (let k = 0; k < 20; k++) void worker(k);
} else if (mode === 'hold') {
  await b.put('held', enc('by ' + process.pid));
  console.log('WROTE');
  setInterval(() => {}, 1000);
}
`;

interface Child {
  proc: ChildProcess;
  out: () => string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once `found` returns a value for the output so far (checked on each chunk and on exit). */
  waitUntil<T>(found: (out: string) => T | undefined, what: string, timeoutMs?: number): Promise<T>;
}

const children = new Set<ChildProcess>();

function startChild(dir: string, mode: 'hold' | 'load' | 'try'): Child {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, GH_STORE_MODULE: DIST_STORE, GH_DIR: dir, GH_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    proc,
    out: () => out,
    waitFor(re, timeoutMs = 20_000) {
      return this.waitUntil((o) => o.split('\n').find((l) => re.test(l)), `print ${re}`, timeoutMs);
    },
    // Checked on each chunk of output and on exit (events), bounded by timeoutMs; no polling.
    waitUntil<T>(found: (o: string) => T | undefined, what: string, timeoutMs = 20_000) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const v = found(out);
          if (v !== undefined) return done(() => resolve(v));
          if (proc.exitCode !== null || proc.signalCode !== null) return fail();
        };
        const fail = () => done(() => reject(new Error(`child (${mode}) did not ${what}; exit ${proc.exitCode ?? proc.signalCode}:\n${out}`)));
        const timer = setTimeout(fail, timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          proc.stdout!.off('data', check);
          proc.off('exit', check);
          f();
        };
        proc.stdout!.on('data', check);
        proc.on('exit', check);
        check();
      });
    },
  };
}

async function kill9(c: Child): Promise<void> {
  const gone = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGKILL');
  await gone;
}

/** A pino logger whose lines land in an array. */
function capturedLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level: 'info' }, sink), lines };
}

describe('LMDB store [lmdb]', () => {
  let dir: string;
  const stores: Store[] = [];
  const open = async (opts: Partial<Parameters<typeof openLmdbStore>[0]> = {}) => {
    const s = await openLmdbStore({ path: dir, prefix: 'p', ...opts });
    stores.push(s);
    return s;
  };

  beforeEach(() => {
    if (!existsSync(fileURLToPath(DIST_STORE))) throw new Error(`${DIST_STORE} missing: build first (npm test builds)`);
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-lmdb-it-'));
  });
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second process on the same data directory, naming the holder; takes over the lock of a dead one', async () => {
    const holder = startChild(dir, 'hold');
    await holder.waitFor(/^WROTE/);
    const pid = holder.proc.pid!;
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(pid);

    // This process is the second one.
    const refused = await openLmdbStore({ path: dir, prefix: 'p' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'STORE_LOCKED', holderPid: pid, name: 'StoreLockedError' });
    expect((refused as Error).message).toContain(`in use by process ${pid}`);

    // kill -9 leaves the lock file behind; the next opener sees its pid is dead and takes over, saying so.
    await kill9(holder);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    const { log, lines } = capturedLog();
    const s = await open({ log });
    const b = await s.bucket('b');
    expect(dec((await b.get('held'))!.value)).toBe(`by ${pid}`);
    expect(lines.some((l) => l.level === 40 && l.msg.includes(`stale lock of process ${pid}`))).toBe(true);

    // Now a third process is refused, naming this one.
    const third = startChild(dir, 'try');
    const line = await third.waitFor(/^REFUSED/);
    expect(line).toContain(`REFUSED STORE_LOCKED ${process.pid} `);

    // Closing releases the directory: the lock file goes.
    await s.close();
    stores.length = 0;
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('loses no acknowledged compare-and-set update to kill -9 under load', async () => {
    const child = startChild(dir, 'load');
    await child.waitFor(/^READY/);
    // Let it write 600 acknowledged updates, then kill it mid-flight (20 writes in flight at any instant).
    await child.waitUntil((o) => ((o.match(/^ACK /gm)?.length ?? 0) >= 600 ? true : undefined), 'acknowledge 600 updates', 30_000);
    await kill9(child);

    const acked = new Map<string, { revision: number; value: string }>();
    let count = 0;
    for (const line of child.out().split('\n')) {
      const m = /^ACK (\S+) (\d+) (\S+)$/.exec(line);
      if (!m) continue;
      count++;
      const [, key, rev, value] = m;
      if (Number(rev) > (acked.get(key!)?.revision ?? 0)) acked.set(key!, { revision: Number(rev), value: value! });
    }
    expect(count).toBeGreaterThanOrEqual(100);

    const s = await open();
    const b = await s.bucket('b');
    let maxAcked = 0;
    for (const [key, last] of acked) {
      const e = await b.get(key);
      expect(e, key).not.toBeNull();
      // The acknowledged update is there, or a later one (acknowledged after the last line the child printed).
      expect(e!.revision).toBeGreaterThanOrEqual(last.revision);
      if (e!.revision === last.revision) expect(dec(e!.value)).toBe(last.value);
      else expect(Number(dec(e!.value).split('#')[1])).toBeGreaterThan(Number(last.value.split('#')[1]));
      maxAcked = Math.max(maxAcked, last.revision);
    }
    // Revisions go on growing from where the killed process left them.
    const last = await b.lastRevision();
    expect(last).toBeGreaterThanOrEqual(maxAcked);
    expect(await b.put('after', enc('x'))).toBe(last + 1);
  });

  it('keeps entries, deletes and the revision counter across close and reopen', async () => {
    let s = await open();
    let b = await s.bucket('keep');
    const r1 = await b.put('a', enc('1'));
    const r2 = await b.put('b', enc('2'));
    await b.delete('b');
    const afterDelete = await b.lastRevision();
    expect(afterDelete).toBeGreaterThan(r2);
    await s.close();
    stores.length = 0;

    s = await open();
    b = await s.bucket('keep');
    expect(await b.get('a')).toMatchObject({ revision: r1 });
    expect(await b.get('b')).toBeNull();
    expect(await b.lastRevision()).toBe(afterDelete);
    expect(await b.put('c', enc('3'))).toBe(afterDelete + 1);
  });

  it('shares one environment between the handles of one process', async () => {
    const s1 = await open({ prefix: 'x' });
    const s2 = await open({ prefix: 'x' });
    const b1 = await s1.bucket('shared');
    const b2 = await s2.bucket('shared');
    const seen: string[] = [];
    const w = await b2.watch((c) => seen.push(c.key));
    const r = await b1.create('k', enc('v'));
    await expect(b2.create('k', enc('w'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await b2.update('k', enc('w'), r)).toBe(r + 1);
    await s1.close();
    // The other handle goes on working after one closes.
    expect(dec((await b2.get('k'))!.value)).toBe('w');
    await expect(b1.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await eventually(() => seen.length >= 2, { what: 'both watch events' });
    expect(seen).toEqual(['k', 'k']);
    w.stop();
  });


  // Compare-and-set writes remember their revision in memory; a plain put does not, and must drop a remembered one.
  it('fences compare-and-set on the revision of a plain put that followed one, and of a delete', async () => {
    const s = await open();
    const b = await s.bucket('mixed');
    const r1 = await b.create('k', enc('a'));
    const r2 = await b.update('k', enc('b'), r1);
    const r3 = await b.put('k', enc('c'));
    await expect(b.update('k', enc('x'), r2)).rejects.toMatchObject({ code: 'CONFLICT' });
    const r4 = await b.update('k', enc('d'), r3);
    expect(r4).toBe(r3 + 1);
    await b.delete('k', r4);
    await expect(b.update('k', enc('y'), r4)).rejects.toMatchObject({ code: 'CONFLICT' });
    const r5 = await b.create('k', enc('e'));
    expect(dec((await b.get('k'))!.value)).toBe('e');
    expect(await b.lastRevision()).toBe(r5);
  });
  it('treats an expired entry as absent for compare-and-set; revisions keep growing past it', async () => {
    const clock = new ManualClock(1_000_000);
    const s = await open({ clock });
    const b = await s.bucket('lease', { ttlMs: 1000 });
    const r1 = await b.create('leader', enc('n1'));
    clock.advance(1000);
    // The old holder's revision no longer fences anything: the entry is gone.
    await expect(b.update('leader', enc('n1'), r1)).rejects.toMatchObject({ code: 'CONFLICT' });
    const r2 = await b.create('leader', enc('n2'));
    expect(r2).toBeGreaterThan(r1);
    expect(dec((await b.get('leader'))!.value)).toBe('n2');
    expect(await b.lastRevision()).toBe(r2);
  });

  it('sweeps expired entries off the disk without watch events', async () => {
    const clock = new ManualClock(1_000_000);
    let s = await open({ clock });
    let b = await s.bucket('ttl', { ttlMs: 5000 });
    const events: string[] = [];
    await b.watch((c) => events.push(`${c.op} ${c.key}`));
    for (let i = 0; i < 50; i++) await b.put(`e.${i}`, enc('x'));
    clock.advance(5000); // expired; the sweep (every TTL, at least 1 s) has run meanwhile
    clock.advance(5000);
    // Removals are queued writes: close() waits for the queue, so the reopened store below sees them done.
    await s.close();
    expect(events.filter((e) => e.startsWith('delete'))).toEqual([]);
    stores.length = 0;

    // A clock that has not moved would still see them live: they are gone from the disk, not just hidden.
    s = await open({ clock: new ManualClock(1_000_000) });
    b = await s.bucket('ttl', { ttlMs: 5000 });
    expect(await b.keys()).toEqual([]);
  });
});
