/**
 * TLS on both sides, with a CA and certificates this test makes with openssl in a temp dir (removed in teardown):
 * - clients: a gateway with `gateway.tls` serves native WSS and TLS over TCP (the same for Pomelo and HTTPS); a client that
 *   trusts the CA connects over each and runs a request; a client trusting another CA is refused with the
 *   certificate error in its message, never served in clear.
 * - NATS: a nats-server with TLS and a token; a node process connects with `nats.tls.caFile` and `nats.token` and
 *   serves a request; a tool trusting the wrong CA fails to connect with an error naming the servers and the cause.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { TOOL_INBOX } from '../../bus/subjects.js';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../../dev/procs.js';
import { createEmbedded } from '../../server/node.js';
import { eventually } from '../../dev/wait.js';

const TOKEN = 'tls-test-token-123';

/** A CA and a server certificate for 127.0.0.1/localhost signed by it, plus an unrelated CA. */
function makePki(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'wrong-ca']) ssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=gatehouse test ${ca}`);
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext');
  const p = (f: string) => join(dir, f);
  return { ca: p('ca.crt'), wrongCa: p('wrong-ca.crt'), cert: p('server.crt'), key: p('server.key') };
}

describe('TLS for clients and for NATS (security)', { timeout: 120_000 }, () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-tls-'));
    pki = makePki(dir);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('gateway: WSS and TLS over TCP', () => {
    let gw: GatewayNode;
    const clients: GatehouseClient[] = [];
    beforeAll(async () => {
      gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { tls: { certFile: pki.cert, keyFile: pki.key } } });
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await gw?.stop();
    });
    const urls = () => ({ wss: `wss://127.0.0.1:${gw.gateway!.ports.ws}`, tls: `tls://127.0.0.1:${gw.gateway!.ports.tcp}` });

    it('a client trusting the CA connects over wss and over tls and runs a request', async () => {
      const ca = readFileSync(pki.ca);
      for (const url of Object.values(urls())) {
        const c = await connect({ url, ca, reconnect: false, connectTimeoutMs: 5000 });
        clients.push(c);
        expect(await c.request('echo', { over: url })).toEqual({ over: url });
      }
    });

    it('a client trusting another CA is refused with the certificate error', async () => {
      const ca = readFileSync(pki.wrongCa);
      for (const url of Object.values(urls())) {
        await expect(connect({ url, ca, reconnect: false, connectTimeoutMs: 5000 })).rejects.toThrow(/certificate/i);
      }
    });

    it('a plain (non-TLS) client gets nothing served in clear', async () => {
      await expect(connect({ url: `ws://127.0.0.1:${gw.gateway!.ports.ws}`, reconnect: false, connectTimeoutMs: 3000 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });
  });

  describe('NATS over TLS with a token', () => {
    let nats: NatsServerHandle;
    let node: Proc | undefined;
    beforeAll(async () => {
      nats = await startNatsServer({
        config: [`tls { cert_file: "${pki.cert}", key_file: "${pki.key}" }`, `authorization { token: "${TOKEN}" }`].join('\n'),
      });
    });
    afterAll(async () => {
      await node?.kill('SIGKILL');
      await nats?.stop();
    });

    it('a node connects with nats.tls.caFile and nats.token and serves a request', async () => {
      node = await startNodeProcess({
        natsUrl: nats.url,
        prefix: 'tls',
        id: 'tls-1',
        extra: ['--set', `nats.tls.caFile=${pki.ca}`, '--set', `nats.token=${TOKEN}`, '--set', 'node.builtinApps=demo'],
      });
      const tool = await createNatsBus({ prefix: 'tls', servers: [nats.url], token: TOKEN, tls: { caFile: pki.ca }, inbox: TOOL_INBOX });
      try {
        const client = new ActorClient(tool, { shards: 16, askTimeoutMs: 5000 });
        const n = await eventually(() => client.ask<number>({ kind: 'ledger', id: 'tls' }, { type: 'inc' }).catch(() => undefined), { timeoutMs: 30_000 });
        expect(n).toBeGreaterThanOrEqual(1);
      } finally {
        await tool.close();
      }
    });

    it('the wrong CA is refused with an error naming the servers and the certificate problem', async () => {
      const err = await createNatsBus({ prefix: 'tls', servers: [nats.url], token: TOKEN, tls: { caFile: pki.wrongCa }, connectTimeoutMs: 5000 }).then(
        (b) => b.close().then(() => undefined),
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(/connecting to NATS at (nats|tls):\/\/127\.0\.0\.1:\d+/);
      expect(err!.message).toMatch(/certificate/i);
    });

    it('a token is required: without it the connection is refused', async () => {
      await expect(createNatsBus({ prefix: 'tls', servers: [nats.url], tls: { caFile: pki.ca }, connectTimeoutMs: 5000 })).rejects.toThrow(/authorization/i);
    });
  });
});
