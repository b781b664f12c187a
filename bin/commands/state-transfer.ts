/**
 * `gatehouse export` and `gatehouse import`: durable actor state (the snapshot buckets: `actors`, `actors-<n>`) as a
 * stream of JSON lines between any two stores, e.g. an embedded node's LMDB directory and a NATS cluster.
 *
 * What travels, per bucket: snapshot buckets only (players' records, rooms, layers: everything a durable kind
 * wrote), found by listing the store's buckets, so the layout of the source (one snapshot bucket or several) does not
 * matter. Not: `shards` (leases), `nodes`, `cluster`, `pins`, `gateways` (membership and placement: a target
 * deployment makes its own), and in the snapshot buckets the gateway's `session` and `identity` actors (who is
 * connected where: meaningless on other sockets; clients log in again and their records are there).
 *
 * Format: a header line {gatehouse: 'state', v: 1, prefix}, one line per key {b: bucket, k: key, r: revision at the
 * source, v: base64 value}, and an end line {end: true, records}. Memory stays bounded by a key list per bucket and a
 * window of values in flight, whatever the size. Import routes each key to the snapshot bucket the target's nodes read
 * (by its shard, with the target's actors.shards and actors.snapshotBuckets), reads the file twice (first checking
 * every line, the end line, and the target's existing keys; only then writing), and refuses a key the target holds
 * with another value unless --force: revisions are per bucket and per store, so they cannot be compared across stores.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { assertKey, type KvBucket, type Store } from '../../bus/store.js';
import { decodeId } from '../../bus/subjects.js';
import { GatehouseError, errorMessage } from '../../common/errors.js';
import { SNAPSHOT_BUCKET, snapshotBucketIndex, snapshotBucketNames } from '../../actors/runtime/snapshots.js';
import { openLmdbStore } from '../../bus/lmdb-store.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { listNatsBuckets } from '../../bus/nats/kv-list.js';
import type { Config } from '../../config/schema.js';
import { natsOptions } from '../../config/nats-options.js';

const SNAPSHOT_BUCKET_RE = new RegExp(`^${SNAPSHOT_BUCKET}(-\\d+)?$`);
/** Connection state, not records (see above). */
const SKIPPED_KINDS = new Set(['session', 'identity']);
const IN_FLIGHT = 32;
/** A snapshot is at most NATS's max_payload (1 MiB) by default: 4 MiB of base64 leaves room for larger servers. */
const MAX_LINE = 4 * 1024 * 1024;

export interface StoreSide {
  store: Store;
  /** The store's bucket names for this prefix. */
  bucketNames(): Promise<string[]>;
  describe: string;
}

export interface TargetLayout {
  shards: number;
  snapshotBuckets: number;
}

type Progress = (line: string) => void;

/**
 * The store a config names: NATS (`--nats`, `--prefix`) or the LMDB data directory (`--data`, which a running node
 * holds: open it after stopping the node; STORE_LOCKED says which process holds it).
 */
export async function openStoreSide(config: Config): Promise<StoreSide & { close(): Promise<void> }> {
  if (config.bus.kind === 'nats') {
    const bus = await createNatsBus(natsOptions(config, 'gatehouse export/import'));
    const store = createNatsStore({ connection: bus.connection, prefix: config.prefix, replicas: config.nats.replicas });
    return {
      store,
      bucketNames: () => listNatsBuckets(bus.connection, config.prefix),
      describe: `NATS ${config.nats.servers.join(',')} prefix ${config.prefix}`,
      close: async () => void (await bus.close()),
    };
  }
  if (config.store.kind !== 'lmdb') throw new GatehouseError('USAGE', 'store.kind=memory keeps nothing to export or import into: give --data DIR or --nats URL');
  const store = await openLmdbStore({ path: config.store.path, prefix: config.prefix });
  return { store, bucketNames: () => store.bucketNames(), describe: `data directory ${config.store.path} prefix ${config.prefix}`, close: () => store.close() };
}

/** The target's snapshot layout, from the config its nodes run with. */
export function layoutOf(config: Config): TargetLayout {
  return { shards: config.actors.shards, snapshotBuckets: config.actors.snapshotBuckets };
}

const kindOf = (key: string) => key.slice(0, Math.max(0, key.indexOf('.')));

export async function exportState(src: StoreSide, prefix: string, out: Writable, progress: Progress): Promise<number> {
  const write = (line: unknown) =>
    new Promise<void>((resolve, reject) => (out.write(JSON.stringify(line) + '\n', (e) => (e ? reject(e) : resolve()))));
  await write({ gatehouse: 'state', v: 1, prefix, from: src.describe });
  let records = 0;
  let skipped = 0;
  for (const name of (await src.bucketNames()).filter((n) => SNAPSHOT_BUCKET_RE.test(n))) {
    const b = await src.store.bucket(name);
    const keys = await b.keys();
    for (let i = 0; i < keys.length; i += IN_FLIGHT) {
      const chunk = keys.slice(i, i + IN_FLIGHT).filter((k) => !SKIPPED_KINDS.has(kindOf(k)));
      skipped += Math.min(IN_FLIGHT, keys.length - i) - chunk.length;
      const entries = await Promise.all(chunk.map((k) => b.get(k)));
      for (const e of entries) {
        if (!e) continue; // deleted meanwhile
        await write({ b: name, k: e.key, r: e.revision, v: Buffer.from(e.value).toString('base64') });
        records++;
      }
      if (records % 1000 < IN_FLIGHT) progress(`exported ${records} records (bucket ${name})`);
    }
  }
  await write({ end: true, records });
  progress(`exported ${records} records from ${src.describe}${skipped ? `; left out ${skipped} session/identity records (connection state)` : ''}`);
  return records;
}

export async function exportToFile(src: StoreSide, prefix: string, file: string | undefined, progress: Progress): Promise<number> {
  if (!file) return exportState(src, prefix, process.stdout, progress);
  const out = createWriteStream(file, { flags: 'wx' }); // never overwrite an earlier dump
  await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject)).catch((e) => {
    throw new GatehouseError('USAGE', `cannot write ${file}: ${errorMessage(e)}`);
  });
  try {
    return await exportState(src, prefix, out, progress);
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}

interface Rec {
  b: string;
  k: string;
  r: number;
  v: Uint8Array;
}

/** Every line of the file, checked; the header and end line are checked too. */
async function* records(file: string): AsyncGenerator<{ rec: Rec; line: number }> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  let ended: number | undefined;
  let count = 0;
  try {
    for await (const text of rl) {
      n++;
      const bad = (why: string) => new GatehouseError('BAD_DUMP', `${file} line ${n}: ${why}`);
      if (text.length > MAX_LINE) throw bad(`longer than ${MAX_LINE} characters`);
      if (ended !== undefined) throw bad('data after the end line');
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        throw bad(`not JSON (${errorMessage(e)})`);
      }
      if (n === 1) {
        if (v?.gatehouse !== 'state' || v.v !== 1) throw bad('not a gatehouse state dump (no {"gatehouse":"state","v":1} header)');
        continue;
      }
      if (v?.end === true) {
        if (v.records !== count) throw bad(`end line says ${String(v.records)} records, the file has ${count}`);
        ended = n;
        continue;
      }
      if (typeof v?.b !== 'string' || !SNAPSHOT_BUCKET_RE.test(v.b)) throw bad('field b must name a snapshot bucket (actors, actors-<n>)');
      if (typeof v.k !== 'string') throw bad('field k must be a key');
      try {
        assertKey(v.k);
      } catch (e) {
        throw bad(errorMessage(e));
      }
      if (!Number.isInteger(v.r)) throw bad('field r must be a revision');
      if (typeof v.v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.v)) throw bad('field v must be base64');
      count++;
      yield { rec: { b: v.b, k: v.k, r: v.r as number, v: new Uint8Array(Buffer.from(v.v, 'base64')) }, line: n };
    }
  } finally {
    rl.close();
  }
  if (n === 0) throw new GatehouseError('BAD_DUMP', `${file} is empty`);
  if (ended === undefined) throw new GatehouseError('BAD_DUMP', `${file} has no end line: truncated? (${count} records read)`);
}

/** The snapshot bucket the target's nodes read a key from: the runtime's own rule (actors/runtime/snapshots.ts). */
export function targetBucket(key: string, layout: TargetLayout): string {
  const names = snapshotBucketNames(layout.snapshotBuckets);
  const id = decodeId(key.slice(key.indexOf('.') + 1));
  return names[snapshotBucketIndex(id, layout.shards, names.length)]!;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export async function importState(file: string, target: StoreSide, layout: TargetLayout, force: boolean, progress: Progress): Promise<{ written: number; unchanged: number }> {
  const buckets = new Map<string, KvBucket>();
  const bucket = async (name: string) => {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = await target.store.bucket(name)));
    return b;
  };
  // Pass 1: the whole file is well formed, and no key would overwrite different state without --force.
  let checked = 0;
  const window: Array<Promise<void>> = [];
  const drain = async () => void (await Promise.all(window.splice(0)));
  // A write that fails while the next line is being read must not count as an unhandled rejection: drain reports it.
  const add = (p: Promise<void>) => {
    p.catch(() => undefined);
    window.push(p);
  };
  for await (const { rec } of records(file)) {
    add(
      (async () => {
        const name = targetBucket(rec.k, layout);
        const cur = await (await bucket(name)).get(rec.k);
        if (cur && !same(cur.value, rec.v) && !force) {
          throw new GatehouseError(
            'TARGET_NEWER',
            `${target.describe} already holds ${rec.k} (bucket ${name}, revision ${cur.revision}) with other state: ` +
              'it may be newer than the dump; nothing was imported (--force overwrites)',
          );
        }
      })(),
    );
    if (window.length >= IN_FLIGHT) await drain();
    if (++checked % 1000 === 0) progress(`checked ${checked} records`);
  }
  await drain();
  progress(`checked ${checked} records; importing into ${target.describe}`);
  // Pass 2: write; a key equal to the dump's is left alone (importing twice changes nothing).
  let written = 0;
  let unchanged = 0;
  for await (const { rec } of records(file)) {
    add(
      (async () => {
        const b = await bucket(targetBucket(rec.k, layout));
        const cur = await b.get(rec.k);
        if (cur && same(cur.value, rec.v)) return void unchanged++;
        if (cur) await b.update(rec.k, rec.v, cur.revision);
        else await b.create(rec.k, rec.v);
        written++;
      })(),
    );
    if (window.length >= IN_FLIGHT) await drain();
    if ((written + unchanged) % 1000 === 0 && written + unchanged > 0) progress(`imported ${written + unchanged} of ${checked}`);
  }
  await drain();
  progress(`imported ${written} records into ${target.describe} (${unchanged} already there)`);
  return { written, unchanged };
}
