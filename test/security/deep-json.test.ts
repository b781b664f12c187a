/**
 * Attack: a request body nested 20 000 levels deep. The native codec caps nesting at 32 levels (docs/PROTOCOL.md);
 * Pomelo JSON bodies had no cap: JSON.parse copes, and what consumed the value next (msgpackr on its way to an actor)
 * overflowed the stack, answered INTERNAL, caught by luck. Now both protocols hold bodies to the same 32 levels: the
 * Pomelo body is scanned without recursion before parsing and answered BAD_REQUEST naming the limit (the connection
 * stays open, as for any bad body); the native frame is BAD_FRAME naming it (a frame that breaks the protocol closes).
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { deferred } from '../../dev/wait.js';
import { encodeDataPackage, encodeHandshakeRequest, encodePackage, decodePackages } from '../../protocol/pomelo/index.js';
import { createEmbedded } from '../../server/node.js';
import { rawConnect } from '../support/native-raw.js';

const nestedJson = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** A byte-level Pomelo client: sends JSON bodies as text, so a body no JSON.stringify could write gets through. */
async function pomeloRaw(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 24 });
  const answers = new Map<number, ReturnType<typeof deferred<Record<string, unknown>>>>();
  const ready = deferred();
  ws.on('message', (data: Buffer) => {
    for (const p of decodePackages(data, { maxBodyLength: 1 << 24 })) {
      if (p.type === 'handshake') {
        ws.send(encodePackage('handshake-ack'));
        ready.resolve();
      } else if (p.type === 'data' && p.body[0] === 0x04) {
        // A response: flag 0x04, the id as a varint, the JSON body.
        let id = 0;
        let i = 1;
        for (let shift = 0; ; shift += 7) {
          const b = p.body[i++]!;
          id += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) break;
        }
        answers.get(id)?.resolve(JSON.parse(Buffer.from(p.body.subarray(i)).toString('utf8')) as Record<string, unknown>);
      }
    }
  });
  await new Promise<void>((res, rej) => ws.once('open', res).once('error', rej));
  ws.send(encodeHandshakeRequest({ sys: { type: 'raw-test', version: '0.0.1' } }));
  await ready.promise;
  let next = 1;
  return {
    request(route: string, json: string) {
      const id = next++;
      const answer = deferred<Record<string, unknown>>();
      answers.set(id, answer);
      ws.send(encodeDataPackage({ type: 'request', id, route, body: Buffer.from(json, 'utf8') }));
      return answer.promise;
    },
    close: () => ws.terminate(),
  };
}

/** A native `req` frame whose body is `levels` nested one-element arrays around nil, written byte by byte. */
function nestedReq(id: number, route: string, levels: number): Uint8Array {
  const head = [0x94, 0x03, id, 0xa0 | route.length, ...Buffer.from(route)];
  return Uint8Array.from([...head, ...new Array<number>(levels).fill(0x91), 0xc0]);
}

describe('deep JSON', () => {
  let gw: GatewayNode;
  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { maxFrameBytes: 1 << 20 } });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('Pomelo: 32 levels echo back; 33 and 20 000 are BAD_REQUEST naming the limit; the connection stays usable', async () => {
    const c = await pomeloRaw(gw.pomeloWsUrl);
    try {
      const ok = await c.request('echo.echoHandler.echo', nestedJson(32));
      expect(ok.code).toBe(200);
      for (const levels of [33, 20_000]) {
        const r = await c.request('echo.echoHandler.echo', nestedJson(levels));
        expect(r).toMatchObject({ code: 500, error: 'BAD_REQUEST' });
        expect(String(r.message)).toContain('deeper than 32 levels');
      }
      // Brackets inside strings are text, not nesting.
      const text = await c.request('echo.echoHandler.echo', JSON.stringify({ s: '['.repeat(100) }));
      expect(text).toMatchObject({ code: 200, echo: { s: '['.repeat(100) } });
    } finally {
      c.close();
    }
  });

  it('native: 32 levels echo back; 33 levels are BAD_FRAME naming the limit, then close 4001', async () => {
    const c = await rawConnect(gw.wsUrl);
    await c.hello();
    c.sendRaw(nestedReq(1, 'echo', 32));
    const ok = await c.next((f) => f.type === 'res' && f.id === 1);
    expect(ok).toMatchObject({ type: 'res', id: 1 });
    expect('error' in ok && ok.error).toBeFalsy();
    c.sendRaw(nestedReq(2, 'echo', 33));
    const err = await c.next((f) => f.type === 'error');
    expect(err).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
    expect((err as { message: string }).message).toContain('at most 32 deep');
    expect(await c.closed).toBe(4001);
  });

  it('native: 20 000 levels are BAD_FRAME naming the limit and close 4001, and the gateway serves the next client', async () => {
    // msgpackr's decoder recurses: the codec catches its stack overflow (a RangeError) and names the limit.
    const c = await rawConnect(gw.wsUrl);
    await c.hello();
    c.sendRaw(nestedReq(1, 'echo', 20_000));
    const err = await c.next((f) => f.type === 'error');
    expect(err).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
    expect((err as { message: string }).message).toContain('at most 32 deep');
    expect(await c.closed).toBe(4001);
    const next = await rawConnect(gw.wsUrl);
    await next.hello();
    expect((await next.request(1, 'echo', [[1]])).body).toEqual([[1]]);
    next.destroy();
  });
});
