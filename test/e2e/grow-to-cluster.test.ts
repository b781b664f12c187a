/**
 * Growing from one box to a cluster: players log in to an embedded node (`gatehouse start` on an LMDB data dir),
 * befriend each other and write profile bytes; the node stops; `gatehouse export` dumps its durable state and
 * `gatehouse import` loads it into a 3-server NATS cluster (replicas 3) before its nodes start (two workers, one
 * gateway, separate processes); the same players log in there and find their friends, pending requests and
 * profiles. Importing the same dump again changes nothing; once the records have moved on, an import without
 * --force is refused naming the key.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { startEmbeddedProcess } from '../../dev/embedded-proc.js';
import { startNatsCluster, type NatsCluster } from '../../dev/nats-cluster.js';
import { fastClusterFlags, runCli, startNodeProcess, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';

const PREFIX = 'grow';
const GATEWAY_PORTS = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]);
type Rec = Record<string, unknown>;

describe('growing from one box to a cluster', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-grow-'));
  const dump = join(dir, 'state.jsonl');
  const procs: Proc[] = [];
  const clients: GatehouseClient[] = [];
  let cluster: NatsCluster | undefined;
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const login = async (url: string, n: number) => {
    const c = await connect({ url, requestTimeoutMs: 15_000 });
    clients.push(c);
    const id = `GROW0${n}`;
    await c.request('lobby.login', { capcomId: id, name: `Grower${n}`, hr: 10 * n });
    return { c, id };
  };
  const cli = async (args: string[]) => {
    const p = runCli(args);
    procs.push(p);
    return { code: await p.exited, out: p.output() };
  };

  it('players keep their records, friends and profiles across export and import', async () => {
    const data = join(dir, 'data');
    const one = await startEmbeddedProcess({ dir: data, extra: ['--prefix', PREFIX] });
    procs.push(one.proc);
    const url = one.urls['native ws']!;
    expect(url).toMatch(/^ws:\/\//);
    const [a, b, c, d] = [await login(url, 1), await login(url, 2), await login(url, 3), await login(url, 4)];
    await a.c.request('lobby.friends.request', { to: b.id });
    await b.c.request('lobby.friends.accept', { from: a.id });
    await c.c.request('lobby.friends.request', { to: d.id }); // left pending
    await a.c.request('lobby.profile.write', { offset: 10, bytes: new Uint8Array([9, 8, 7]) });
    await d.c.request('lobby.profile.write', { offset: 200, bytes: new Uint8Array([4, 4]) });
    for (const x of clients.splice(0)) x.close();
    expect(await one.proc.kill('SIGTERM')).toBe(0);

    const exp = await cli(['export', '--data', data, '--prefix', PREFIX, '--out', dump]);
    expect(exp.code, exp.out).toBe(0);
    expect(exp.out).toMatch(/exported \d+ records from data directory/);
    const lines = readFileSync(dump, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ gatehouse: 'state', v: 1, prefix: PREFIX });
    const keys = lines.slice(1, -1).map((l) => (JSON.parse(l) as { k: string }).k);
    expect(keys).toEqual(expect.arrayContaining(['lobby-player.GROW01', 'lobby-player.GROW02', 'lobby-player.GROW03', 'lobby-player.GROW04']));
    expect(keys.filter((k) => k.startsWith('session.') || k.startsWith('identity.'))).toEqual([]);

    cluster = await startNatsCluster(3, 'grow');
    const nats = cluster.urls.join(',');
    const target = ['--nats', nats, '--prefix', PREFIX, '--replicas', '3', ...fastClusterFlags()];
    const imp = await cli(['import', dump, ...target]);
    expect(imp.code, imp.out).toBe(0);
    expect(imp.out).toMatch(new RegExp(`imported ${keys.length} records into NATS`));
    const again = await cli(['import', dump, ...target]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(new RegExp(`imported 0 records .*\\(${keys.length} already there\\)`));

    const extra = ['--replicas', '3'];
    const nodes = await Promise.all([
      startNodeProcess({ natsUrl: nats, prefix: PREFIX, id: 'w1', roles: 'worker', extra }),
      startNodeProcess({ natsUrl: nats, prefix: PREFIX, id: 'w2', roles: 'worker', extra }),
      startNodeProcess({ natsUrl: nats, prefix: PREFIX, id: 'g1', roles: 'gateway', extra: [...extra, ...GATEWAY_PORTS] }),
    ]);
    procs.push(...nodes);
    const gw = /(ws:\/\/\S+)/.exec(await nodes[2]!.waitFor(/native ws\s+ws:\/\//))![1]!;
    // Until the workers hold the lobby's shards, a login may be refused: retry it.
    const a2 = await eventually(() => login(gw, 1).catch(() => undefined), { timeoutMs: 60_000, what: 'GROW01 logs in on the cluster' });
    const whoA = await a2.c.request<{ friends: Array<{ id: string }>; name: string; hr: number }>('lobby.whoami');
    expect(whoA.friends.map((f) => f.id)).toEqual(['GROW02']);
    const profA = await a2.c.request<{ profile: Uint8Array }>('lobby.profile.get');
    expect([...profA.profile.slice(10, 13)]).toEqual([9, 8, 7]);
    const b2 = await login(gw, 2);
    expect((await b2.c.request<{ friends: Array<{ id: string }> }>('lobby.whoami')).friends.map((f) => f.id)).toEqual(['GROW01']);
    const d2 = await login(gw, 4);
    const listsD = await d2.c.request<{ pending: Rec[] }>('lobby.friends');
    expect(JSON.stringify(listsD.pending)).toContain('GROW03');
    expect([...(await d2.c.request<{ profile: Uint8Array }>('lobby.profile.get')).profile.slice(200, 202)]).toEqual([4, 4]);

    // The records have moved on (logged in on the cluster): importing the old dump is refused, naming a key.
    const stale = await cli(['import', dump, ...target]);
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/already holds lobby-player\.GROW0\d .*with other state.*\[TARGET_NEWER\]/);
  });
});
