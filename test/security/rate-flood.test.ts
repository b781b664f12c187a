/**
 * Attack: a request flood at 6x the rate limit. PROTOCOL.md promises that a client keeping on past several times the
 * limit is closed with 4200, but one accepted request reset the strike count, and a flood at 6x gets a request
 * through every 1/limit seconds: it was never closed. Now refusals fill a leaky bucket that drains at
 * `gateway.floodRefusalsPerSecond` on the gateway's clock; past `gateway.floodRefusalBurst` the connection is closed
 * with 4200. A client slightly over the limit now and then is refused some requests and never closed. And the
 * connections of one address share a request budget (`gateway.requestsPerSecondPerAddress`), so opening more sockets
 * (up to the per-address connection bound) buys no more requests: past it they wait, sockets unread, and are served
 * at the budget's rate (address-fairness.test.ts shows what that does for the other clients).
 *
 * Time is the injected ManualClock: the client advances it between requests, so the rates are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { createEmbedded } from '../../server/node.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';
import { eventually } from '../../dev/wait.js';

const until = (cond: () => boolean) => eventually(cond, { what: 'answers' });

const LIMIT = 10; // requests per second

describe('rate flood', () => {
  let gw: GatewayNode;
  const clock = new ManualClock();
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(),
      clock,
      gateway: { requestsPerSecond: LIMIT, requestBurst: LIMIT, floodRefusalsPerSecond: LIMIT, floodRefusalBurst: 2 * LIMIT, heartbeatMs: 600_000 },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  /** Requests at `perSecond` on the injected clock, each answered before the next, until `n` or a close. */
  async function offer(c: RawClient, perSecond: number, n: number): Promise<{ sent: number; limited: number }> {
    let limited = 0;
    let sent = 0;
    for (; sent < n && !c.isClosed; sent++) {
      const res = await Promise.race([c.request(sent + 1, 'echo', sent), c.closed.then(() => undefined)]);
      if (res && 'error' in res && res.error?.code === 'RATE_LIMITED') limited++;
      clock.advance(1000 / perSecond);
    }
    return { sent, limited };
  }

  it('closes a flood at 6x the limit with 4200', async () => {
    const c = await rawConnect(gw.wsUrl);
    await c.hello();
    const before = (gw.gateway!.status!() as { floodClosed: number }).floodClosed;
    const r = await offer(c, 6 * LIMIT, 600); // 10 s at 6x, if it were never closed
    expect(await c.closed).toBe(4200);
    // Burst 10 spent, then 50 refusals/s against a drain of 10/s: past 20 within about half a second.
    expect(r.sent).toBeLessThan(120);
    expect((gw.gateway!.status!() as { floodClosed: number }).floodClosed).toBe(before + 1);
  });

  it("shares one request budget among an address's connections (opening more sockets buys no more requests)", async () => {
    const shared = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(),
      clock,
      gateway: { connectionLimitExempt: [], requestsPerSecondPerAddress: 5, requestBurstPerAddress: 10, heartbeatMs: 600_000 },
    });
    try {
      const cs = await Promise.all([1, 2, 3].map(() => rawConnect(shared.wsUrl)));
      for (const c of cs) await c.hello();
      // 18 requests at once: the address's burst (10, not 3 connections' bursts of 100), spent at twice the rate
      // (10/s) and 1 at an instant (50 ms of that, at least 1): 1 is answered now.
      const answers = cs.flatMap((c) => Array.from({ length: 6 }, (_, i) => c.request(i + 1, 'echo', i)));
      const answered = () => cs.reduce((n, c) => n + c.frames.filter((f) => f.type === 'res').length, 0);
      const status = () => shared.gateway!.status!() as { requestsWaiting: number; rateLimited: number };
      // (The one served is answered through the bus: it may reach the client after the rest are queued.)
      await until(() => status().requestsWaiting === 17 && answered() >= 1);
      expect(answered()).toBe(1);
      // The rest wait for the budget, sockets unread (nothing refused: what the saved-up budget covers and a burst
      // beyond it may wait), served as the clock moves: 10 in the first second, the last 7 in the next.
      clock.advance(1000);
      await until(() => answered() >= 11);
      expect(answered()).toBe(11);
      clock.advance(1000);
      await until(() => answered() >= 18);
      const res = await Promise.all(answers);
      expect(res.every((r) => r.error === undefined)).toBe(true);
      expect(status().rateLimited).toBe(0);
      cs.forEach((c) => c.destroy());
    } finally {
      await shared.stop();
    }
  });

  it('does not close a client slightly over the limit now and then', async () => {
    const c = await rawConnect(gw.wsUrl);
    await c.hello();
    // 20 s at 1.2x the limit: once the burst is spent, about 2 refusals a second, far below the drain.
    const r = await offer(c, 1.2 * LIMIT, 240);
    expect(r.sent).toBe(240);
    expect(r.limited).toBeGreaterThan(0);
    expect(c.isClosed).toBe(false);
    // Back under the limit, it is served again.
    clock.advance(2000);
    expect((await c.request(1000, 'echo', 'still here')).body).toBe('still here');
    c.destroy();
  });
});
