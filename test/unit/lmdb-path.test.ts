import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLmdbStore } from '../../bus/lmdb-store.js';

describe('LMDB store data directory', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('opens a directory whose name has a dot (lmdb-js would take it for a file)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-lmdb-path-'));
    dirs.push(root);
    const path = join(root, 'data.v1');
    const store = await openLmdbStore({ path, prefix: 'p' });
    try {
      const b = await store.bucket('actors');
      expect(await b.put('k', new Uint8Array([1, 2, 3]))).toBe(1);
      expect(Array.from((await b.get('k'))!.value)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
    expect(statSync(path).isDirectory()).toBe(true);
    expect(statSync(join(path, 'data.mdb')).isFile()).toBe(true);
  });
});
