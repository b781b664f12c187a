/**
 * The gateway's requests in flight (gateway/route-calls.ts) on a ManualClock: each call is answered once, by its
 * outcome or by TIMEOUT at its deadline, whichever comes first; calls settled in any order leave the list intact for
 * the ones still waiting (the list is intrusive: a call settled in the middle must unlink cleanly).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import type { WireError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { newGatewayMetrics } from '../../gateway/metrics.js';
import { RouteCalls, type RouteReply } from '../../gateway/route-calls.js';

const TIMEOUT_MS = 1000;

function setup() {
  const clock = new ManualClock();
  const metrics = newGatewayMetrics();
  const calls = new RouteCalls({ clock, log: silentLogger, metrics, settings: { requestTimeoutMs: TIMEOUT_MS } });
  const answers: Array<{ id: number; body: unknown; error: WireError | undefined }> = [];
  const reply: RouteReply = { answer: (id, body, error) => answers.push({ id, body, error }) };
  return { clock, metrics, calls, answers, reply };
}

function deferred() {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { p, resolve, reject };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('route calls', () => {
  it('answers outcomes in any order and times out only the calls still waiting, oldest first', async () => {
    const { clock, calls, answers, reply } = setup();
    const d = [deferred(), deferred(), deferred(), deferred()];
    calls.track(d[0]!.p, 1, reply, 'a');
    clock.advance(100);
    calls.track(d[1]!.p, 2, reply, 'b');
    calls.track(d[2]!.p, 3, reply, 'c');
    clock.advance(100);
    calls.track(d[3]!.p, 4, reply, 'd');
    expect(calls.inFlight).toBe(4);

    d[1]!.resolve('two'); // the middle of the list
    d[3]!.reject(new Error('boom')); // its tail
    await flush();
    expect(answers).toEqual([
      { id: 2, body: 'two', error: undefined },
      { id: 4, body: undefined, error: expect.objectContaining({ code: 'INTERNAL' }) },
    ]);
    expect(calls.inFlight).toBe(2);

    clock.advance(TIMEOUT_MS - 200); // call 1's deadline, not call 3's
    expect(answers.slice(2)).toEqual([{ id: 1, body: undefined, error: { code: 'TIMEOUT', message: `route a took longer than ${TIMEOUT_MS} ms` } }]);
    expect(calls.inFlight).toBe(1);

    d[0]!.resolve('late'); // after its TIMEOUT: dropped
    await flush();
    expect(answers).toHaveLength(3);

    clock.advance(100);
    expect(answers.slice(3)).toEqual([{ id: 3, body: undefined, error: expect.objectContaining({ code: 'TIMEOUT' }) }]);
    expect(calls.inFlight).toBe(0);
    expect(clock.pending).toBe(0); // nothing left to wait for: no timer re-armed
  });

  it('keeps taking calls after the list emptied', async () => {
    const { calls, answers, reply } = setup();
    for (let round = 0; round < 3; round++) {
      const d = [deferred(), deferred()];
      calls.track(d[0]!.p, 10 * round + 1, reply, 'x');
      calls.track(d[1]!.p, 10 * round + 2, reply, 'x');
      d[0]!.resolve(round);
      d[1]!.resolve(round);
      await flush();
      expect(calls.inFlight).toBe(0);
    }
    expect(answers.map((a) => a.id)).toEqual([1, 2, 11, 12, 21, 22]);
  });
});
