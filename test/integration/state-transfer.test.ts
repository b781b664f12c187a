/**
 * export/import (bin/commands/state-transfer.ts) between two LMDB data directories, in process: keys land in the
 * snapshot bucket the target's runtime reads (another bucket count than the source's), session and identity actors
 * stay behind, a second import changes nothing, a key holding other state is refused by name unless forced, and a
 * hostile or truncated dump is refused with the line it fails on, before anything is written.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLmdbStore, type LmdbStoreHandle } from '../../bus/lmdb-store.js';
import { encode } from '../../bus/codec.js';
import { SnapshotStore, snapshotBucketNames } from '../../actors/runtime/snapshots.js';
import { exportToFile, importState, type StoreSide } from '../../bin/commands/state-transfer.js';

const SHARDS = 16;
const record = (n: number) => ({ v: 1 as const, s: { n }, t: [], d: [] });

describe('export and import between stores [lmdb]', () => {
  const dirs: string[] = [];
  const stores: LmdbStoreHandle[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'gh-xfer-'));
    dirs.push(d);
    return d;
  };
  const side = async (path: string): Promise<StoreSide & { store: LmdbStoreHandle }> => {
    const store = await openLmdbStore({ path, prefix: 'x' });
    stores.push(store);
    return { store, bucketNames: () => store.bucketNames(), describe: path };
  };
  const snapshots = async (s: StoreSide, n: number) =>
    new SnapshotStore(await Promise.all(snapshotBucketNames(n).map((b) => s.store.bucket(b))), SHARDS);
  const quiet = () => undefined;

  it('moves snapshots into the target layout, leaves connection state behind, and refuses stale targets by key', async () => {
    const src = await side(join(tmp(), 'src'));
    const from = await snapshots(src, 1);
    for (let i = 0; i < 40; i++) await from.save('lobby-player', `P${i}`, record(i), 0);
    await from.save('session', 's1', record(0), 0);
    await from.save('identity', 'P1', record(0), 0);
    await (await src.store.bucket('shards')).put('lobby-player.3', encode({ o: 'n1' })); // a lease: not exported
    const file = join(tmp(), 'dump.jsonl');
    const lines: string[] = [];
    expect(await exportToFile(src, 'x', file, (l) => lines.push(l))).toBe(40);
    expect(lines.at(-1)).toMatch(/exported 40 records .*left out 2 session\/identity records/);

    const dst = await side(join(tmp(), 'dst'));
    expect(await importState(file, dst, { shards: SHARDS, snapshotBuckets: 4 }, false, quiet)).toEqual({ written: 40, unchanged: 0 });
    const to = await snapshots(dst, 4);
    for (let i = 0; i < 40; i++) expect((await to.load('lobby-player', `P${i}`))?.record.s).toEqual({ n: i });
    expect(await to.load('session', 's1')).toBeNull();
    const written = await dst.store.bucketNames();
    expect(written.length).toBeGreaterThan(1); // spread over the target's buckets by shard
    for (const b of written) expect(snapshotBucketNames(4)).toContain(b);
    expect(await importState(file, dst, { shards: SHARDS, snapshotBuckets: 4 }, false, quiet)).toEqual({ written: 0, unchanged: 40 });

    const cur = (await to.load('lobby-player', 'P7'))!;
    await to.save('lobby-player', 'P7', record(700), cur.revision); // the target moved on
    await expect(importState(file, dst, { shards: SHARDS, snapshotBuckets: 4 }, false, quiet)).rejects.toMatchObject({
      code: 'TARGET_NEWER',
      message: expect.stringMatching(/already holds lobby-player\.P7 \(bucket actors-\d, revision \d+\) with other state/),
    });
    expect((await to.load('lobby-player', 'P7'))?.record.s).toEqual({ n: 700 }); // refused before writing anything
    expect(await importState(file, dst, { shards: SHARDS, snapshotBuckets: 4 }, true, quiet)).toEqual({ written: 1, unchanged: 39 });
    expect((await to.load('lobby-player', 'P7'))?.record.s).toEqual({ n: 7 });
  });

  it('refuses hostile or truncated dumps, naming the line, and writes nothing', async () => {
    const dst = await side(join(tmp(), 'dst'));
    const dir = tmp();
    const good = JSON.stringify({ b: 'actors', k: 'lobby-player.A', r: 1, v: Buffer.from(encode(record(1))).toString('base64') });
    const head = JSON.stringify({ gatehouse: 'state', v: 1, prefix: 'x' });
    const cases: Array<[string, string, RegExp]> = [
      ['empty', '', /is empty/],
      ['no header', `${good}\n`, /line 1: not a gatehouse state dump/],
      ['truncated', `${head}\n${good}\n`, /has no end line: truncated\? \(1 records read\)/],
      ['bad count', `${head}\n${good}\n{"end":true,"records":2}\n`, /line 3: end line says 2 records, the file has 1/],
      ['lease bucket', `${head}\n${good.replace('"actors"', '"shards"')}\n{"end":true,"records":1}\n`, /line 2: field b must name a snapshot bucket/],
      ['bad key', `${head}\n${good.replace('lobby-player.A', 'a b')}\n{"end":true,"records":1}\n`, /line 2: bad key "a b"/],
      ['not base64', `${head}\n${good.replace(/"v":"[^"]+"/, '"v":"%%%"')}\n{"end":true,"records":1}\n`, /line 2: field v must be base64/],
      ['not json', `${head}\n{oops\n`, /line 2: not JSON/],
      ['after end', `${head}\n{"end":true,"records":0}\n${good}\n`, /line 3: data after the end line/],
    ];
    for (const [name, text, re] of cases) {
      const file = join(dir, `${name}.jsonl`);
      writeFileSync(file, text);
      await expect(importState(file, dst, { shards: SHARDS, snapshotBuckets: 1 }, false, quiet), name).rejects.toMatchObject({ code: 'BAD_DUMP', message: expect.stringMatching(re) });
    }
    expect(await dst.store.bucketNames()).toEqual([]);
    expect(readFileSync(join(dir, 'truncated.jsonl'), 'utf8')).toContain('lobby-player.A');
  });
});
