/**
 * Gateways as separate processes (`node dist/bin/gatehouse.js node …`) on a real nats-server: one worker process
 * holds the sessions (sharded, durable), two gateway-only processes hold the sockets.
 *
 * - A client logged in on gateway 1 keeps its session when gateway 1 is killed with -9: it reconnects to gateway 2
 *   with its ticket and gets the same session, identity and data back.
 * - A second login of the same identity through the other gateway is refused.
 * - `--gateway-procs 2` serves one set of ports from two gateway processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../../dev/procs.js';
import { ECHO_APP, startGatewayProcess, type GatewayProc } from '../../dev/gateway-procs.js';
import { eventually } from '../../dev/wait.js';

interface Whoami {
  session: string;
  identity: string | null;
  node: string;
  note: string | null;
}

describe('gateways in separate processes', () => {
  let nats: NatsServerHandle;
  let worker: Proc;
  let g1: GatewayProc;
  let g2: GatewayProc;
  const procs: Proc[] = [];
  const clients: GatehouseClient[] = [];
  const prefix = 'gwp';
  beforeAll(async () => {
    nats = await startNatsServer();
    worker = await startNodeProcess({ natsUrl: nats.url, prefix, id: 'w1', roles: 'worker', extra: ['--app', ECHO_APP] });
    procs.push(worker);
    [g1, g2] = await Promise.all(['g1', 'g2'].map((id) => startGatewayProcess({ natsUrl: nats.url, prefix, id })));
    procs.push(g1!.proc, g2!.proc);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await nats?.stop();
  });

  /** Logs in, retrying while the worker is still taking its shard leases (UNAVAILABLE). */
  async function login(c: GatehouseClient, name: string): Promise<void> {
    await eventually(
      async () => {
        try {
          await c.request('login', { name });
          return true;
        } catch (err) {
          if ((err as { code?: string }).code === 'UNAVAILABLE' || (err as { code?: string }).code === 'TIMEOUT') return false;
          throw err;
        }
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `login ${name}` },
    );
  }

  it('resumes the session on the other gateway process after kill -9 of the first', async () => {
    const c = await connect({ url: [g1.ws, g2.ws], reconnectDelayMs: 50, requestTimeoutMs: 5000 });
    clients.push(c);
    await login(c, 'proc-user');
    await c.request('remember', { note: 'kept across processes' });
    const before = await c.request<Whoami>('whoami');
    expect(before).toMatchObject({ identity: 'proc-user', node: 'g1' });

    const reopened = new Promise<{ resumed: boolean }>((r) => c.onEvent('open', r));
    await g1.proc.kill('SIGKILL');
    expect((await reopened).resumed).toBe(true);
    const after = await c.request<Whoami>('whoami');
    expect(after).toEqual({ ...before, node: 'g2', conn: expect.any(String) } as Whoami);
    expect(after.session).toBe(before.session);

    // The identity is still held by the resumed session: another login of it through g2 is refused.
    const other = await connect({ url: g2.ws, reconnect: false });
    clients.push(other);
    await expect(other.request('login', { name: 'proc-user' })).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN' });
  });

  it('serves one set of ports from two gateway processes (--gateway-procs 2)', async () => {
    const shared = await startGatewayProcess({ natsUrl: nats.url, prefix, id: 'shared', roles: 'gateway', extra: ['--gateway-procs', '2'] });
    procs.push(shared.proc);
    const nodes = new Set<string>();
    const cs = await Promise.all(Array.from({ length: 16 }, () => connect({ url: shared.ws, reconnect: false })));
    clients.push(...cs);
    for (const c of cs) nodes.add((await c.request<Whoami>('whoami')).node);
    expect([...nodes].sort()).toEqual(['shared-gw0', 'shared-gw1']);
    // The entry endpoint of that port knows every gateway of the deployment.
    const entry = (await (await fetch(`${shared.http}/entry`)).json()) as { node: string; urls: { ws: string } };
    expect(entry.urls.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });
});
