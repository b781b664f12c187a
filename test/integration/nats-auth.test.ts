/**
 * NATS credentials and per-deployment isolation, as docs/OPERATIONS.md documents them: each deployment in its own NATS
 * account (JetStream enabled per account), nodes logging in with user/password or a token. A user of another account
 * sees nothing of the deployment even subscribing to everything; a wrong password is a clear startup error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { runCli, startNodeProcess, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';

const ACCOUNTS = `
accounts {
  MH: { jetstream: enabled, users: [ { user: mh, password: "mh-secret" }, { user: mhtool, password: "tool-secret" } ] }
  OTHER: { jetstream: enabled, users: [ { user: other, password: "other-secret" } ] }
}
`;

describe('NATS credentials and account isolation', { timeout: 120_000 }, () => {
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  beforeAll(async () => {
    nats = await startNatsServer({ config: ACCOUNTS });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await nats?.stop();
  });

  it('a node logs in with user/password; another account sees none of its traffic', async () => {
    const p = await startNodeProcess({ natsUrl: nats.url, prefix: 'mh', id: 'auth-1', extra: ['--set', 'nats.user=mh', '--set', 'nats.pass=mh-secret'] });
    procs.push(p);
    const tool = await createNatsBus({ prefix: 'mh', servers: [nats.url], user: 'mhtool', pass: 'tool-secret' });
    const spy = await createNatsBus({ prefix: 'mh', servers: [nats.url], user: 'other', pass: 'other-secret' });
    const seen: string[] = [];
    const all = spy.subscribe('>', (m) => seen.push(m.subject));
    await spy.flush();
    const client = new ActorClient(tool, { shards: 16, askTimeoutMs: 5000 });
    const n = await eventually(() => client.ask<number>({ kind: 'ledger', id: 'acct' }, { type: 'inc' }).catch(() => undefined), { timeoutMs: 20_000 });
    expect(n).toBeGreaterThanOrEqual(1);
    await spy.flush();
    expect(seen).toEqual([]);
    all.unsubscribe();
    // The other account cannot reach the deployment's actors at all.
    const stranger = new ActorClient(spy, { shards: 16, askTimeoutMs: 2000 });
    await expect(stranger.ask({ kind: 'ledger', id: 'acct' }, { type: 'get' })).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
    await tool.close();
    await spy.close();
  });

  it('a wrong password fails at start with a clear error naming the servers', async () => {
    const p = runCli(['node', '--nats', nats.url, '--prefix', 'mh', '--roles', 'worker', '--set', 'nats.user=mh', '--set', 'nats.pass=wrong']);
    procs.push(p);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/connecting to NATS at nats:\/\/127\.0\.0\.1:\d+.*(Authorization|AUTHORIZATION)/is);
  });
});
