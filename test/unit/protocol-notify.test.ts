/**
 * The native `notify` frame (docs/PROTOCOL.md, tag 11): bytes, strict decoding, the connection rules' dispatch with
 * no id; then end to end on a gateway: the route runs, nothing is answered (not even an error), limits still apply,
 * and the SDK's notify() sends it. Pomelo notifies take the same no-reply path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { collector } from '../../dev/wait.js';
import {
  FrameTag,
  ProtocolError,
  createNativeConnectionRules,
  decodeFrame,
  encodeFrame,
  isClientFrame,
  type Frame,
} from '../../protocol/native/index.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').match(/../g)!.join(' ');
const bytes = (h: string) => Uint8Array.from(h.split(' ').map((x) => parseInt(x, 16)));

describe('notify frame codec', () => {
  const example = '93 0b a9 63 68 61 74 2e 73 65 6e 64 81 a7 63 6f 6e 74 65 6e 74 a2 68 69';

  it('encodes and decodes the documented example byte for byte', () => {
    const f: Frame = { type: 'notify', route: 'chat.send', body: { content: 'hi' } };
    expect(hex(encodeFrame(f))).toBe(example);
    expect(decodeFrame(bytes(example))).toEqual(f);
    expect(FrameTag.Notify).toBe(11);
    expect(isClientFrame(f)).toBe(true);
  });

  it('takes nil as no body and refuses what a req would refuse', () => {
    expect(decodeFrame(bytes('93 0b a1 61 c0'))).toEqual({ type: 'notify', route: 'a', body: null });
    const bad = [
      '92 0b a1 61', // no body
      '94 0b a1 61 c0 c0', // one element too many
      '93 0b a3 61 2e 2a c0', // route `a.*`: a wildcard
      '93 0b 01 c0', // route not a string
      '93 0b a1 61 d4 01 00', // body an extension type
    ];
    for (const b of bad) {
      const err = (() => {
        try {
          decodeFrame(bytes(b));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, b).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code, b).toBe('BAD_FRAME');
    }
    expect(() => encodeFrame({ type: 'notify', route: 'bad route', body: null })).toThrow(ProtocolError);
  });
});

describe('notify in the native connection rules', () => {
  const open = () => {
    const r = createNativeConnectionRules(0);
    r.receive({ type: 'hello', v: 1 }, 0);
    r.handle({ type: 'accept', session: 's', ticket: 't', resumed: false }, 1);
    return r;
  };

  it('dispatches with no id once open, and counts as a sign of life', () => {
    const r = open();
    const before = r.deadline;
    expect(r.receive({ type: 'notify', route: 'chat.send', body: 1 }, 500)).toEqual([
      { type: 'dispatch', id: undefined, route: 'chat.send', body: 1 },
    ]);
    expect(r.deadline).toBe(before + 499);
    expect(r.phase).toBe('open');
  });

  it('before welcome is NOT_READY and a close, like a req', () => {
    const r = createNativeConnectionRules(0);
    r.receive({ type: 'hello', v: 1 }, 0);
    const actions = r.receive({ type: 'notify', route: 'x', body: null }, 1);
    expect(actions[0]).toMatchObject({ type: 'send', frame: { type: 'error', code: 'NOT_READY' } });
    expect(actions[1]).toMatchObject({ type: 'close', code: 4004 });
  });
});

describe('notify through a gateway (embedded)', () => {
  let gw: GatewayNode;
  const raws: RawClient[] = [];
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(),
      actors: { askTimeoutMs: 200 },
      gateway: { requestsPerSecond: 0.01, requestBurst: 3 },
    });
  });
  afterAll(async () => {
    for (const r of raws) r.destroy();
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });
  const raw = async (url: string) => {
    const r = await rawConnect(url);
    raws.push(r);
    await r.hello();
    return r;
  };

  for (const transport of ['ws', 'tcp'] as const) {
    it(`runs the route and answers nothing, not even errors (${transport})`, async () => {
      const r = await raw(transport === 'ws' ? gw.wsUrl : gw.tcpUrl);
      const errorsBefore = gw.gateway!.metrics.errors.UNKNOWN_ROUTE ?? 0;
      r.send({ type: 'notify', route: 'nope', body: null }); // unknown route: counted, not answered
      r.send({ type: 'notify', route: 'flood', body: { n: 2, size: 4 } }); // the route runs: its pushes arrive
      await r.next((f) => f.type === 'push' && (f.body as { i: number }).i === 1);
      // Burst 3: the fourth message is over the limit. A notify over it is dropped silently; a req gets RATE_LIMITED.
      const limitedBefore = gw.gateway!.metrics.rateLimited;
      r.send({ type: 'notify', route: 'echo', body: 'third' });
      r.send({ type: 'notify', route: 'echo', body: 'over the limit' });
      expect((await r.request(7, 'echo', 'x')).error?.code).toBe('RATE_LIMITED');
      expect(gw.gateway!.metrics.rateLimited).toBe(limitedBefore + 2);
      expect(gw.gateway!.metrics.errors.UNKNOWN_ROUTE).toBe(errorsBefore + 1);
      // The only answers on the wire are for the one req; no error frame, no close.
      expect(r.frames.filter((f) => f.type === 'res').map((f) => (f as { id: number }).id)).toEqual([7]);
      expect(r.frames.some((f) => f.type === 'error')).toBe(false);
      expect(r.isClosed).toBe(false);
    });
  }

  it('the SDK sends notifies: the route runs, no response is kept waiting', async () => {
    const c = await connect({ url: gw.wsUrl });
    clients.push(c);
    const got = collector<{ i: number }>(3);
    c.on('flood', (b) => got.push(b as { i: number }));
    expect(c.notify('flood', { n: 3, size: 4 })).toBe(true);
    expect((await got.done).map((b) => b.i)).toEqual([0, 1, 2]);
    expect(() => c.notify('not a route')).toThrow(/route/);
  });

  it('a Pomelo notify takes the same no-reply path', async () => {
    const p = await connectPomelo(gw.pomeloWsUrl!);
    try {
      const before = gw.gateway!.metrics.requests;
      p.notify('echo.echoHandler.echo', { hi: 1 });
      // A request after it is answered with its own id: nothing was written for the notify in between.
      expect(await p.request('echo.echoHandler.echo', { n: 2 })).toEqual({ code: 200, echo: { n: 2 } });
      expect(gw.gateway!.metrics.requests).toBe(before + 2);
    } finally {
      p.close();
    }
  });
});
