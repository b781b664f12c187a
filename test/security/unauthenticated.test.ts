/**
 * Attack: connecting without a credential. Before gateway authentication any client reached every app route (the
 * lobby took the Capcom ID from the request body). With `gateway.auth.mode: token`, a native hello without a token
 * and a Pomelo handshake without `user.token` get UNAUTHORIZED and close 4100 where no app admits anonymous clients;
 * where one does (chat, `anonymousApps`), the client connects unchanged and only the other apps' routes answer
 * UNAUTHORIZED.
 */
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { lobbyApp } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { CloseCode } from '../../protocol/error-codes.js';
import { rawConnect } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';
import { testKeys, type TestKeys } from '../support/auth.js';

const pinus = createRequire(import.meta.url)('pinus-protocol') as {
  Package: { encode(type: number, body?: Uint8Array): Uint8Array; decode(b: Uint8Array): { type: number; body?: Uint8Array } | Array<{ type: number; body?: Uint8Array }> };
  Protocol: { strencode(s: string): Uint8Array; strdecode(b: Uint8Array): string };
};

/** A Pomelo handshake over WebSocket; resolves with the close code and any kick reason. */
async function pomeloHandshake(url: string, user: Record<string, unknown>): Promise<{ code: number; kick?: unknown }> {
  const ws = new WebSocket(url);
  ws.binaryType = 'nodebuffer';
  let kick: unknown;
  ws.on('message', (b: Buffer) => {
    const d = pinus.Package.decode(b);
    for (const p of Array.isArray(d) ? d : [d]) if (p.type === 5 && p.body) kick = JSON.parse(pinus.Protocol.strdecode(p.body));
  });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const body = JSON.stringify({ sys: { type: 'js-websocket', version: '0.0.1' }, user });
  ws.send(pinus.Package.encode(1, pinus.Protocol.strencode(body)));
  const code = await new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  return { code, kick };
}

describe('unauthenticated clients (security)', () => {
  let keys: TestKeys;
  let lobbyOnly: GatewayNode;
  let mixed: GatewayNode;
  beforeAll(async () => {
    keys = await testKeys();
    lobbyOnly = await startGatewayNode({ apps: [lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
    mixed = await startGatewayNode({ apps: [chatApp, lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth({ anonymousApps: ['chat'] }) } });
  });
  afterAll(async () => {
    await lobbyOnly?.stop();
    await mixed?.stop();
    await keys?.dispose();
  });

  it('native: a hello without a token gets UNAUTHORIZED and close 4100 where the app needs a principal', async () => {
    for (const url of [lobbyOnly.wsUrl, lobbyOnly.tcpUrl]) {
      const c = await rawConnect(url);
      c.send({ type: 'hello', v: 1 });
      expect(await c.closed).toBe(CloseCode.Unauthorized);
      expect(c.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(c.frames.some((f) => f.type === 'welcome')).toBe(false);
    }
  });

  it('native: with a valid token the same hello is welcomed and the lobby serves it', async () => {
    const c = await rawConnect(lobbyOnly.wsUrl);
    c.send({ type: 'hello', v: 1, token: await keys.token({ sub: 'alice' }) });
    await c.next((f) => f.type === 'welcome');
    const res = await c.request(1, 'lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 10 });
    expect(res.error).toBeUndefined();
    c.destroy();
  });

  it('Pomelo: a handshake without user.token is kicked with UNAUTHORIZED and closed with 4100', async () => {
    const r = await pomeloHandshake(lobbyOnly.pomeloWsUrl, {});
    expect(r.code).toBe(CloseCode.Unauthorized);
    expect(JSON.stringify(r.kick)).toContain('UNAUTHORIZED');
    const forged = await pomeloHandshake(lobbyOnly.pomeloWsUrl, { token: 'not.a.token' });
    expect(forged.code).toBe(CloseCode.Unauthorized);
  });

  it('where chat admits anonymous clients, a stock Pomelo client connects unchanged; lobby routes say UNAUTHORIZED', async () => {
    const c = await connectPomelo(mixed.pomeloWsUrl);
    try {
      expect(c.handshake.code).toBe(200);
      const res = await c.request<Record<string, unknown>>('lobby.login', { capcomId: 'MALL01', name: 'M', hr: 1 });
      expect(JSON.stringify(res)).toContain('UNAUTHORIZED');
      const native = await rawConnect(mixed.wsUrl);
      await native.hello();
      const denied = await native.request(1, 'lobby.login', { capcomId: 'MALL01', name: 'M', hr: 1 });
      expect(denied.error?.code).toBe('UNAUTHORIZED');
      native.destroy();
    } finally {
      await c.close();
    }
  });
});
