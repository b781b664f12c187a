/**
 * How embedded mode chooses its store (config `store`): LMDB in `store.path` by default, memory on request, nothing on
 * disk when the bus is NATS (the section is ignored there), several embedded nodes of one process sharing one
 * directory, and a worker thread refused (it would be a second writer in the same process).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../common/errors.js';
import { createEmbedded, startNode, type GatehouseNode } from '../../server/node.js';
import { defaultApps } from '../../server/apps.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { silentLogger } from '../../common/logger.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('embedded store selection [lmdb, memory]', () => {
  const dirs: string[] = [];
  const nodes: GatehouseNode[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'gh-emb-store-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('defaults to LMDB in ./data; env and --set choose memory; a bad kind names store.kind', () => {
    expect(loadConfig().store).toEqual({ kind: 'lmdb', path: './data' });
    expect(loadConfig({ env: { GATEHOUSE_STORE_KIND: 'memory', GATEHOUSE_STORE_PATH: '/var/gh' } }).store).toEqual({ kind: 'memory', path: '/var/gh' });
    expect(loadConfig({ flags: { set: ['store.kind=memory'] } }).store.kind).toBe('memory');
    const err = (() => {
      try {
        loadConfig({ flags: { set: ['store.kind=disk'] } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/store\.kind \(from flag --set store\.kind=disk\): expected one of lmdb, memory/);
  });

  it('keeps durable actors across a restart on LMDB; two nodes of one process share the directory', async () => {
    const dir = tmp();
    const config = (id: string) =>
      loadConfig({ overrides: { prefix: 'es', node: { id, roles: ['worker'], builtinApps: ['demo'] }, store: { path: dir }, log: { level: 'silent' }, metrics: { enabled: false } } });
    const start = async (id: string) => {
      const embedded = createEmbedded();
      const c = config(id);
      const node = await startNode({ config: c, apps: defaultApps(c), embedded, log: silentLogger });
      nodes.push(node);
      return { node, client: new ActorClient(embedded.broker.connect({ prefix: 'es' }), { shards: c.actors.shards, askTimeoutMs: 5000 }) };
    };
    const a = await start('a');
    const b = await start('b'); // same directory, same process: shares the environment, no STORE_LOCKED
    expect(await a.client.ask({ kind: 'ledger', id: 'x' }, { type: 'inc', from: 't', n: 1 })).toBe(1);
    expect(await b.client.ask({ kind: 'ledger', id: 'y' }, { type: 'inc', from: 't', n: 1 })).toBe(1);
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    const c = await start('c');
    // Inspecting activates a stored actor from its snapshot, and creates none: absent ones are NOT_FOUND, twice.
    expect(await c.client.ask({ kind: 'ledger', id: 'x' }, { type: '$inspect' })).toMatchObject({ kind: 'ledger', id: 'x' });
    for (let i = 0; i < 2; i++) {
      for (const kind of ['ledger', 'tally']) {
        await expect(c.client.ask({ kind, id: 'nobody' }, { type: '$inspect' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      }
    }
    expect(c.node.host.stats().perKind).toMatchObject({ ledger: 1, tally: 0 });
    expect(await c.client.ask({ kind: 'ledger', id: 'x' }, { type: 'get' })).toEqual({ count: 1, log: [['t', 1]] });
    expect(await c.client.ask({ kind: 'ledger', id: 'y' }, { type: 'get' })).toEqual({ count: 1, log: [['t', 1]] });
  });

  it('store.kind=memory writes nothing to store.path', async () => {
    const dir = join(tmp(), 'never');
    const c = loadConfig({ overrides: { prefix: 'em', node: { roles: ['worker'], builtinApps: ['demo'] }, store: { kind: 'memory', path: dir }, log: { level: 'silent' } } });
    nodes.push(await startNode({ config: c, apps: defaultApps(c), embedded: createEmbedded(), log: silentLogger }));
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to open the LMDB store in a worker thread, naming why', async () => {
    const dir = tmp();
    const mod = pathToFileURL(join(ROOT, 'dist', 'bus', 'lmdb-store.js')).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.mod).then((m) => m.openLmdbStore({ path: workerData.dir, prefix: 'p' }))
        .then(() => parentPort.postMessage('opened'), (e) => parentPort.postMessage(e.code + ' ' + e.message));`;
    const w = new Worker(code, { eval: true, workerData: { mod, dir } });
    const msg = await new Promise<string>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toMatch(/^STORE_ERROR .*main thread only/);
  });

  describe('on NATS', () => {
    let nats: NatsServerHandle;
    beforeAll(async () => {
      nats = await startNatsServer();
    });
    afterAll(async () => {
      await nats?.stop();
    });

    it('ignores the store section: JetStream KV, nothing written to store.path', async () => {
      const dir = join(tmp(), 'unused');
      const c = loadConfig({
        flags: { nats: nats.url, prefix: 'en' },
        overrides: { node: { roles: ['worker'], builtinApps: ['demo'] }, store: { kind: 'lmdb', path: dir }, log: { level: 'silent' } },
      });
      const node = await startNode({ config: c, apps: defaultApps(c), log: silentLogger });
      nodes.push(node);
      expect(node.store.kind).toBe('nats');
      expect(existsSync(dir)).toBe(false);
    });
  });
});
