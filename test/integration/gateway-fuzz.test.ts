/**
 * Fuzzing the gateway over real sockets: random bytes and mutations of well-formed frames and packages, on WebSocket
 * and TCP, native and Pomelo. After each input the client sends a liveness probe (native `ping`, Pomelo heartbeat):
 * the gateway must answer every input, either with the probe's answer (the input was harmless, or a valid request)
 * or with an error (error frame / kick) and a close. Never silence, never a crash; a control client keeps working
 * throughout. Counts are bounded (fast-check numRuns).
 *
 * Native inputs also have an oracle: the same codec decodes the input here. What it refuses must be refused by the
 * gateway with that error code and its close code; what it accepts must be answered as that frame is (a ping with a
 * pong, an echo request with its own body, anything else never refused as undecodable). Every test checks that the
 * gateway's open-connection count returns to what it was when the test began.
 */
import fc from 'fast-check';
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { decodeFrame, encodeFrame, encodeTcp, ProtocolError, type Frame } from '../../protocol/native/index.js';
import {
  createPackageStreamDecoder,
  encodeDataPackage,
  encodeHandshakeAck,
  encodeHandshakeRequest,
  encodeHeartbeat,
  encodeJsonBody,
  type PomeloPackage,
} from '../../protocol/pomelo/index.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { rawConnect } from '../support/native-raw.js';
import { Changes, eventually } from '../../dev/wait.js';
import { withinMs } from '../../common/bounded.js';
import { systemClock } from '../../common/clock.js';

const MAX_FRAME = 4096;
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** Byte-level mutations of a valid input: flip, truncate, extend, splice. */
const mutated = (seeds: Uint8Array[]) =>
  fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.option(fc.nat({ max: 40 })),
      fc.uint8Array({ maxLength: 12 }),
    )
    .map(([seed, flips, cut, tail]) => {
      const b = Uint8Array.from(seed);
      for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
      const kept = cut === null ? b : b.subarray(0, Math.max(1, b.length - cut));
      return Uint8Array.from([...kept, ...tail]);
    });

const payloads = (seeds: Uint8Array[]) =>
  fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), mutated(seeds), mutated(seeds), mutated(seeds));

const nativeSeeds: Uint8Array[] = (
  [
    { type: 'hello', v: 1 },
    { type: 'hello', v: 1, ticket: 'abc.def', client: 'fuzz' },
    { type: 'req', id: 7, route: 'echo', body: { a: [1, 'x', null, true], b: 2.5 } },
    { type: 'req', id: 300, route: 'whoami', body: null },
    { type: 'ping' },
    { type: 'close', code: 4000, reason: 'bye' },
  ] as Frame[]
).map((f) => encodeFrame(f));

const pomeloSeeds: Uint8Array[] = [
  encodeHandshakeRequest({ sys: { type: 'js-websocket', version: '0.0.1' } }),
  encodeHandshakeAck(),
  encodeHeartbeat(),
  encodeDataPackage({ type: 'request', id: 5, route: 'echo.echoHandler.echo', body: encodeJsonBody({ a: 1 }) }),
  encodeDataPackage({ type: 'notify', route: 'echo', body: encodeJsonBody([1, 2]) }),
];

describe('gateway fuzzing over real sockets', () => {
  let gw: GatewayNode;
  let control: GatehouseClient;
  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { maxFrameBytes: MAX_FRAME, requestBurst: 1000 } });
    control = await connect({ url: gw.wsUrl, reconnect: false });
  });
  afterAll(async () => {
    await control?.close();
    await gw?.stop();
  });

  async function controlStillWorks(): Promise<void> {
    expect(await control.request('echo', 'ok')).toBe('ok');
  }
  /** The gateway's open connections return to `start` (the test's own starting count) once its clients are gone. */
  async function connectionsBackTo(start: number): Promise<void> {
    await eventually(() => gw.gateway!.connections === start, { timeoutMs: 10_000, what: `open connections back to ${start}` });
    expect(gw.gateway!.connections).toBe(start);
  }
  const DECODE_CODES = ['BAD_FRAME', 'FRAME_TOO_LARGE'];
  /** What the codec says of an input: the frame, or the error code it is refused with. */
  function oracle(payload: Uint8Array): { frame: Frame } | { refused: string } {
    try {
      return { frame: decodeFrame(payload, { maxFrameBytes: MAX_FRAME }) };
    } catch (err) {
      return { refused: err instanceof ProtocolError ? err.code : 'BAD_FRAME' };
    }
  }

  for (const transport of ['ws', 'tcp'] as const) {
    it(`native over ${transport}: every input gets an answer or an error and a close`, async () => {
      const url = transport === 'ws' ? gw.wsUrl : gw.tcpUrl;
      const open0 = gw.gateway!.connections;
      let errors = 0;
      const judged = { refused: 0, echoed: 0, pinged: 0, rehello: 0, other: 0 };
      await fc.assert(
        fc.asyncProperty(fc.boolean(), payloads(nativeSeeds), fc.boolean(), async (handshake, payload, raw) => {
          const c = await rawConnect(url);
          try {
            if (handshake) await c.hello();
            const unframed = transport === 'tcp' && raw;
            if (unframed) {
              // Unframed garbage on the stream, then enough zero bytes to complete any frame length it declared.
              c.sendRaw(payload);
              c.sendRaw(new Uint8Array(MAX_FRAME + 4));
            } else {
              c.sendRaw(transport === 'tcp' ? encodeTcp(payload) : payload);
            }
            c.send({ type: 'ping' });
            const want = unframed ? undefined : oracle(payload);
            if (want && 'frame' in want && want.frame.type === 'req' && want.frame.route === 'echo' && handshake) {
              // A request the codec reads as an echo: answered with its own body (a bad input answered as good fails).
              const id = want.frame.id;
              const res = await c.next((f) => (f.type === 'res' && f.id === id) || f.type === 'error', 5000);
              expect(res).toMatchObject({ type: 'res', id, body: want.frame.body });
              judged.echoed++;
            }
            const answer = await Promise.race([c.next((f) => f.type === 'pong' || f.type === 'error', 5000), c.closed]);
            if (want && 'frame' in want && want.frame.type === 'hello' && handshake && typeof answer !== 'number') {
              // A second hello is the one error that is not fatal (PROTOCOL.md): UNEXPECTED_FRAME, then the ping's pong.
              expect(answer).toMatchObject({ type: 'error', code: 'UNEXPECTED_FRAME' });
              expect(await c.next((f) => f.type === 'pong', 5000)).toMatchObject({ type: 'pong' });
              judged.rehello++;
            } else if (typeof answer === 'number' || answer.type === 'error') {
              errors++;
              const code = await withinMs(systemClock, 5000, 'the close after an error', c.closed); // an error is followed by a close
              if (want && 'refused' in want) {
                // Refused by the codec: the gateway refuses it with the same code and the matching close code.
                expect(typeof answer === 'number' ? want.refused : answer.code).toBe(want.refused);
                expect(code).toBe(want.refused === 'FRAME_TOO_LARGE' ? 4002 : 4001);
                judged.refused++;
              } else if (want && typeof answer !== 'number') {
                // Decodable: maybe wrong for the connection's state, never refused as undecodable.
                expect(DECODE_CODES).not.toContain(answer.code);
                judged.other++;
              }
            } else {
              // Answered: then the codec could read it (a refused input must not pass as harmless).
              if (want) expect(want).not.toHaveProperty('refused');
              if (want && 'frame' in want && want.frame.type === 'ping') judged.pinged++;
            }
          } finally {
            c.destroy();
          }
        }),
        { numRuns: RUNS },
      );
      expect(errors).toBeGreaterThan(RUNS / 4);
      expect(judged.refused).toBeGreaterThan(0);
      await controlStillWorks();
      await connectionsBackTo(open0);
    });
  }

  it('native over ws: text messages and messages over the size limit get an error frame and a close', async () => {
    const text = await rawConnect(gw.wsUrl);
    text.sendRaw(new TextEncoder().encode('hello'), { text: true });
    expect(await text.next((f) => f.type === 'error')).toMatchObject({ code: 'BAD_FRAME' });
    expect(await text.closed).toBe(4001);
    const big = await rawConnect(gw.wsUrl);
    await big.hello();
    big.sendRaw(new Uint8Array(MAX_FRAME * 3));
    expect(await big.next((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(await big.closed).toBe(4002);
    const tcp = await rawConnect(gw.tcpUrl);
    tcp.sendRaw(Uint8Array.from([0x7f, 0, 0, 0]));
    expect(await tcp.next((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await tcp.closed;
    await controlStillWorks();
  });

  for (const transport of ['ws', 'tcp'] as const) {
    it(`pomelo over ${transport}: every input gets an answer or a kick and a close`, async () => {
      const url = transport === 'ws' ? gw.pomeloWsUrl : gw.pomeloTcpUrl;
      const open0 = gw.gateway!.connections;
      let kicks = 0;
      await fc.assert(
        fc.asyncProperty(fc.boolean(), payloads(pomeloSeeds), async (handshake, payload) => {
          const p = await rawPomelo(url);
          try {
            if (handshake) {
              p.send(pomeloSeeds[0]!);
              await p.next('handshake');
              p.send(encodeHandshakeAck());
              await p.next('heartbeat'); // the server's first heartbeat right after the ack
            }
            p.send(payload);
            if (transport === 'tcp') p.send(new Uint8Array(MAX_FRAME + 8)); // completes any body length it declared
            p.send(encodeHeartbeat());
            // Answered: a heartbeat (working session) or handshake reply; refused: a kick or a close.
            const got = await Promise.race([p.next('any', 5000), p.closed.then(() => 'closed' as const)]);
            if (got === 'closed' || got.type === 'kick') {
              kicks++;
              await withinMs(systemClock, 5000, 'the close after a kick', p.closed);
            }
          } finally {
            p.destroy();
          }
        }),
        { numRuns: RUNS },
      );
      expect(kicks).toBeGreaterThan(RUNS / 4);
      await controlStillWorks();
      await connectionsBackTo(open0);
    });
  }

  it('kept every connection accounted for', async () => {
    // Measured here, so the test stands alone: one bad frame counted, its connection gone, the count back.
    const g = gw.gateway!;
    const open0 = g.connections;
    const bad0 = g.metrics.badFrames;
    const c = await rawConnect(gw.wsUrl);
    await eventually(() => g.connections === open0 + 1, { what: 'the connection counted' });
    c.sendRaw(Uint8Array.from([0xc1]));
    expect(await c.next((f) => f.type === 'error')).toMatchObject({ code: 'BAD_FRAME' });
    expect(await c.closed).toBe(4001);
    c.destroy();
    expect(g.metrics.badFrames).toBe(bad0 + 1);
    await connectionsBackTo(open0);
    await controlStillWorks();
  });
});

interface RawPomelo {
  send(bytes: Uint8Array): void;
  /** Next package of `type` received after the previous call ('any': the next package at all). */
  next(type: PomeloPackage['type'] | 'any', timeoutMs?: number): Promise<PomeloPackage>;
  readonly closed: Promise<void>;
  destroy(): void;
}

async function rawPomelo(url: string): Promise<RawPomelo> {
  const inbox: PomeloPackage[] = [];
  const changes = new Changes();
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const decoder = createPackageStreamDecoder({ maxBodyLength: 1 << 20 });
  const onBytes = (b: Uint8Array) => {
    for (const p of decoder.push(b)) inbox.push(p);
    changes.changed();
  };
  const onClose = () => {
    isClosed = true;
    resolveClosed();
    changes.changed();
  };
  let send: (b: Uint8Array) => void;
  let destroy: () => void;
  if (url.startsWith('tcp://')) {
    const u = new URL(url);
    const s: Socket = netConnect({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    s.on('data', onBytes);
    s.on('error', () => undefined);
    s.on('close', onClose);
    send = (b) => {
      if (!s.destroyed) s.write(b);
    };
    destroy = () => s.destroy();
  } else {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((res, rej) => ws.once('open', res).once('error', rej));
    ws.on('message', (d: Buffer) => onBytes(d));
    ws.on('error', () => undefined);
    ws.on('close', onClose);
    send = (b) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b);
    };
    destroy = () => ws.terminate();
  }
  return {
    send,
    closed,
    destroy,
    next(type, timeoutMs = 5000) {
      return changes.until(
        () => {
          const i = inbox.findIndex((p) => type === 'any' || p.type === type);
          if (i >= 0) return inbox.splice(0, i + 1)[i]!;
          if (isClosed) throw new Error(`closed before a ${type} package`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`no ${type} package within ${timeoutMs} ms`),
      );
    },
  };
}
