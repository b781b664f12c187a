/**
 * Attack: one address spending its saved-up request budget in one stretch of the event loop. At the default budget
 * (gateway.requestsPerSecondPerAddress 400) admission let 50 ms of the peak rate start at one instant: 40 requests
 * together. bench hostile's reads attacker did exactly that, over and over (each socket resumed delivered its
 * backlog): 40 unknown-id reads in one stretch were the longest stretches of the event loop in its window, and every
 * other client's request waited behind them. Now at most 10 of one address's requests start at one instant, whatever
 * its rate; the rest of its budget follows drain by drain (the peak rate is unchanged), and what waited starts one
 * per event-loop turn.
 *
 * Counts, not times: the injected ManualClock stands still while the first slice is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import { createEmbedded } from '../../server/node.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';

const SOCKETS = 4;
const PER_SOCKET = 40; // 160 at once, far more than a slice: what limits the first instant is admission alone

interface Status {
  requestsWaiting: number;
  requests: number;
}

describe("one address's saved-up budget spent in slices (security)", () => {
  let gw: GatewayNode;
  const clock = new ManualClock();
  const open: RawClient[] = [];
  const status = () => gw.gateway!.status!() as unknown as Status;
  const answered = (cs: RawClient[]) => cs.reduce((n, c) => n + c.frames.filter((f) => f.type === 'res').length, 0);
  beforeAll(async () => {
    // The default per-address budget (400/s, burst 800): loopback counts like any address here.
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), clock, gateway: { connectionLimitExempt: [], heartbeatMs: 600_000 } });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await gw?.stop();
  });

  it('at most 10 requests of one address start at one instant at the default budget; the next slice waits for the clock', async () => {
    const flood = await Promise.all(Array.from({ length: SOCKETS }, () => rawConnect(gw.wsUrl)));
    open.push(...flood);
    for (const c of flood) await c.hello();
    for (const c of flood) for (let i = 1; i <= PER_SOCKET; i++) c.send({ type: 'req', id: i, route: 'echo', body: i });

    await eventually(() => status().requestsWaiting > 0 && answered(flood) >= 10, { what: 'a slice answered and a queue' });
    // The clock stands still: only the first slice ran (it was 40 before).
    expect(status().requests).toBe(10);
    expect(answered(flood)).toBe(10);

    // One drain later (10 ms): the peak rate's share of it (2 x 400/s x 10 ms = 8), again no more than a slice, and
    // one per event-loop turn: one at the drain, the next seven on the following turns.
    const before = status().requests;
    clock.advance(10);
    expect(status().requests - before).toBe(1);
    await eventually(() => status().requests - before === 8, { what: 'the drain share started, turn by turn' });
    for (let t = 0; t < 20; t++) await new Promise((r) => setImmediate(r));
    expect(status().requests - before).toBe(8);

    // Everything is answered in the end, none refused: the budget covers it (160 < 800), only spread out.
    for (let s = 0; s < 40 && answered(flood) < SOCKETS * PER_SOCKET; s++) {
      clock.advance(10);
      for (let t = 0; t < 12; t++) await new Promise((r) => setImmediate(r)); // a drain's share starts over turns
    }
    await eventually(() => answered(flood) === SOCKETS * PER_SOCKET, { what: 'every request answered' });
    const refused = flood.reduce((n, c) => n + c.frames.filter((f) => f.type === 'res' && 'error' in f && f.error).length, 0);
    expect(refused).toBe(0);
    expect(status().requestsWaiting).toBe(0);
  });
});
