/**
 * Attack: one address holding many requests unfinished at once. The request budget paces how fast an address's
 * requests start, not how many wait on actors together: 200 sockets of one host (bench hostile) kept hundreds of
 * routes' work queued in front of every other client's request. Now at most `gateway.maxInFlightPerAddress` of an
 * address's requests are started and unfinished; more wait (its sockets unread) and start one per finished request.
 * Whatever way a request ends gives its slot back: answered here; a closed connection gives back all of its own.
 *
 * The route `hold` answers only when the test says; the budget is set far above what is sent, so only the in-flight
 * bound holds requests back. The injected ManualClock stands still: no deadline passes, and nothing moves on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import type { App } from '../../node-api/app.js';
import type { Frame } from '../../protocol/native/index.js';
import { createEmbedded } from '../../server/node.js';
import { fromOtherAddress, rawConnect, type RawClient } from '../support/native-raw.js';

const MAX = 4;

/** Requests of route `hold` waiting for the test to answer them, with the body they came with. */
interface Held {
  body: { c: number; i: number };
  answer(): void;
}

function holdApp(held: Held[]): App {
  return {
    name: 'hold',
    kinds: [],
    gateway: {
      routes: {
        hold: (_ctx, body) =>
          new Promise((resolve) => {
            held.push({ body: body as Held['body'], answer: () => resolve(body) });
          }),
      },
    },
  };
}


interface Status {
  requests: number;
  requestsWaiting: number;
  inFlightWaits: number;
}

describe('one address holding requests unfinished (security)', () => {
  let gw: GatewayNode;
  const clock = new ManualClock();
  const held: Held[] = [];
  const open: RawClient[] = [];
  const closers: Array<() => void> = [];
  const status = () => gw.gateway!.status!() as unknown as Status;
  const answers = (c: RawClient) => c.frames.filter((f) => f.type === 'res') as Array<Extract<Frame, { type: 'res' }>>;
  const answerAll = (pred: (h: Held) => boolean) => {
    for (const h of held.filter(pred)) {
      held.splice(held.indexOf(h), 1);
      h.answer();
    }
  };
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp(), holdApp(held)],
      embedded: createEmbedded(),
      clock,
      // 127.0.0.1 holds requests; the well-behaved client comes from 127.0.0.2. The budget never limits here.
      gateway: {
        connectionLimitExempt: [],
        requestsPerSecondPerAddress: 100_000,
        requestBurstPerAddress: 100_000,
        maxInFlightPerAddress: MAX,
        heartbeatMs: 600_000,
      },
    });
  });
  afterAll(async () => {
    answerAll(() => true);
    for (const c of open) c.destroy();
    for (const close of closers) close();
    await gw?.stop();
  });

  it('starts at most the bound, the next when one finishes; a closed connection gives back its slots', async () => {
    const [c1, c2] = await Promise.all([rawConnect(gw.wsUrl), rawConnect(gw.wsUrl)]);
    open.push(c1!, c2!);
    for (const c of [c1!, c2!]) await c.hello();
    const good = await fromOtherAddress(gw.wsUrl);
    closers.push(good.close);
    const base = status().requests;

    // Connection 1 fills the address's bound; connection 2's requests all wait.
    for (let i = 1; i <= MAX; i++) c1!.send({ type: 'req', id: i, route: 'hold', body: { c: 1, i } });
    await eventually(() => held.length === MAX, { what: 'the first connection at the bound' });
    for (let i = 1; i <= MAX; i++) c2!.send({ type: 'req', id: i, route: 'hold', body: { c: 2, i } });
    await eventually(() => status().requestsWaiting === MAX, { what: "the second connection's requests waiting" });
    expect(status().requests - base).toBe(MAX);
    expect(held.map((h) => h.body.c)).toEqual([1, 1, 1, 1]);
    expect(status().inFlightWaits).toBeGreaterThanOrEqual(1);

    // Another address is answered at once, the clock standing still.
    const t0 = clock.now();
    expect(await good.request(1, 'hello')).toMatchObject({ body: 'hello' });
    expect(clock.now()).toBe(t0);

    // One of connection 1's finishes: exactly one of connection 2's starts.
    answerAll((h) => h.body.c === 1 && h.body.i === 1);
    await eventually(() => held.some((h) => h.body.c === 2), { what: 'one waiting request started' });
    expect(held.map((h) => `${h.body.c}.${h.body.i}`)).toEqual(['1.2', '1.3', '1.4', '2.1']);
    expect(status().requestsWaiting).toBe(MAX - 1);
    expect(answers(c1!).map((f) => f.id)).toEqual([1]);

    // Connection 1 closes with 3 unfinished: their slots come back, connection 2's other 3 start.
    c1!.destroy();
    await eventually(() => held.filter((h) => h.body.c === 2).length === MAX, { what: "the closed connection's slots given back" });
    expect(status().requestsWaiting).toBe(0);

    // Everything connection 2 sent is answered once; once its socket is read again (the next drain), it is served.
    answerAll((h) => h.body.c === 2);
    await eventually(() => answers(c2!).length === MAX, { what: "connection 2's answers" });
    expect(answers(c2!).map((f) => f.id).sort()).toEqual([1, 2, 3, 4]);
    clock.advance(10);
    const next = c2!.request(99, 'echo', 'again');
    expect(await next).toMatchObject({ body: 'again' });
    // The late answers of the closed connection's requests give nothing back twice: the bound still holds at MAX.
    answerAll((h) => h.body.c === 1);
    for (let i = 1; i <= MAX + 1; i++) c2!.send({ type: 'req', id: 100 + i, route: 'hold', body: { c: 2, i: 100 + i } });
    await eventually(() => held.length === MAX && status().requestsWaiting === 1, { what: 'the bound again' });
  });
});
