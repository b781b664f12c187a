/**
 * The "request finished" hook the in-flight bound relies on (gateway/route-calls.ts): a tracked call calls its
 * `finished` exactly once, after its answer, whichever way it ends (answered, failed, timed out, settled after its
 * timeout). A finish run by an expiry may start a request at once (admission lets the next one in): the gateway keeps
 * one deadline timer, for the oldest call, and still times out what is due on time.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import type { WireError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { newGatewayMetrics } from '../../gateway/metrics.js';
import { RouteCalls, type RouteReply } from '../../gateway/route-calls.js';
import { deferred } from '../../dev/wait.js';

const TIMEOUT_MS = 1000;

function setup() {
  const clock = new ManualClock();
  const calls = new RouteCalls({ clock, log: silentLogger, metrics: newGatewayMetrics(), settings: { requestTimeoutMs: TIMEOUT_MS } });
  const log: string[] = [];
  const reply: RouteReply = { answer: (id, _body, error: WireError | undefined) => log.push(`answer ${id}${error ? ' ' + error.code : ''}`) };
  return { clock, calls, log, reply };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('route calls: finished once per request', () => {
  it('after the answer, once, whether answered, failed or timed out; a late outcome finishes nothing again', async () => {
    const { clock, calls, log, reply } = setup();
    const d = [deferred<unknown>(), deferred<unknown>(), deferred<unknown>()];
    d.forEach((x, i) => calls.track(x.promise, i + 1, reply, 'r', clock.now(), () => log.push(`finished ${i + 1}`)));
    d[0]!.resolve('ok');
    d[1]!.reject(Object.assign(new Error('no'), { code: 'NOT_FOUND' }));
    await flush();
    clock.advance(TIMEOUT_MS);
    d[2]!.resolve('late');
    d[0]!.resolve('again');
    await flush();
    expect(log).toEqual(['answer 1', 'finished 1', 'answer 2 NOT_FOUND', 'finished 2', 'answer 3 TIMEOUT', 'finished 3']);
  });

  it('a request started by an expiry keeps one timer, and calls still due expire on time', async () => {
    const { clock, calls, log, reply } = setup();
    const never = new Promise<unknown>(() => undefined);
    let started = 0;
    // Each expiry's finish starts one new request at once, as admission does for a waiting one.
    const finished = () => {
      if (started++ < 2) calls.track(never, 100 + started, reply, 'next', clock.now(), finished);
    };
    calls.track(never, 1, reply, 'first', clock.now(), finished);
    clock.advance(500);
    calls.track(never, 2, reply, 'second', clock.now(), finished);
    clock.advance(500); // 1 expires; its finish starts 101 (deadline 2000)
    expect(log).toEqual(['answer 1 TIMEOUT']);
    expect(clock.pending).toBe(1);
    clock.advance(500); // 2 is due at 1500, not later
    expect(log).toEqual(['answer 1 TIMEOUT', 'answer 2 TIMEOUT']);
    expect(clock.pending).toBe(1);
    clock.advance(500);
    expect(log).toEqual(['answer 1 TIMEOUT', 'answer 2 TIMEOUT', 'answer 101 TIMEOUT']);
    clock.advance(TIMEOUT_MS);
    expect(log).toHaveLength(4);
    expect(calls.inFlight).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
