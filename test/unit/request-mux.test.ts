/**
 * RequestMux bookkeeping without I/O: replies settle their request, timeouts are swept per timeout group (mixed
 * timeouts each fire on their own deadline), and settled requests left behind a long-waiting one do not pile up.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bus, BusMsg, MsgHandler } from '../../bus/bus.js';
import { RequestMux } from '../../bus/request-mux.js';
import { silentLogger } from '../../common/logger.js';

function fakeBus() {
  let handler: MsgHandler | undefined;
  const bus = {
    subscribe: (_s: string, h: MsgHandler) => {
      handler = h;
      return { subject: _s, closed: false, unsubscribe() {} };
    },
  } as unknown as Bus;
  return { bus, reply: (subject: string, data = new Uint8Array([1])) => handler!({ subject, data } as BusMsg) };
}

describe('RequestMux', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('settles each request with its own reply, and drops a reply that comes after its timeout', async () => {
    const { bus, reply } = fakeBus();
    const mux = new RequestMux(bus, silentLogger);
    const a = mux.open('svc.a', 1000);
    const b = mux.open('svc.b', 1000);
    reply(b.reply, new Uint8Array([2]));
    reply(a.reply, new Uint8Array([1]));
    expect([...(await a.promise).data]).toEqual([1]);
    expect([...(await b.promise).data]).toEqual([2]);
    const late = mux.open('svc.c', 100);
    const outcome = late.promise.then(() => 'resolved', (e: { code?: string }) => e.code);
    await vi.advanceTimersByTimeAsync(200);
    expect(await outcome).toBe('TIMEOUT');
    reply(late.reply); // nothing waits for it any more: dropped
    expect(mux.inFlight).toBe(0);
  });

  it('times out each group on its own deadline, whatever the order of opening', async () => {
    const { bus } = fakeBus();
    const mux = new RequestMux(bus, silentLogger);
    const done: string[] = [];
    const track = (name: string, ms: number) => void mux.open(name, ms).promise.catch(() => done.push(name));
    track('long', 5000);
    track('short', 100);
    track('mid', 1000);
    track('short2', 100);
    await vi.advanceTimersByTimeAsync(300);
    expect(done).toEqual(['short', 'short2']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(done).toEqual(['short', 'short2', 'mid']);
    expect(mux.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(done).toEqual(['short', 'short2', 'mid', 'long']);
    expect(mux.inFlight).toBe(0);
  });

  it('keeps a group bounded while an old request waits in front of many settled ones, and still times it out', async () => {
    const { bus, reply } = fakeBus();
    const mux = new RequestMux(bus, silentLogger);
    const first = mux.open('svc.slow', 60_000);
    const failed = first.promise.catch((e: { code?: string }) => e.code);
    for (let i = 0; i < 20_000; i++) {
      const r = mux.open('svc.fast', 60_000);
      reply(r.reply);
      await r.promise;
    }
    await vi.advanceTimersByTimeAsync(100);
    const groups = (mux as unknown as { byTimeout: Map<number, { items: unknown[]; head: number }> }).byTimeout;
    const g = groups.get(60_000)!;
    expect(g.items.length - g.head).toBeLessThan(2000);
    expect(mux.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(60_100);
    expect(await failed).toBe('TIMEOUT');
    expect(mux.inFlight).toBe(0);
  });

  it('fails every request in flight on close', async () => {
    const { bus } = fakeBus();
    const mux = new RequestMux(bus, silentLogger);
    const ps = [mux.open('a', 1000), mux.open('b', 2000)].map((r) => r.promise.catch((e: Error) => e.name));
    mux.close();
    expect((await Promise.all(ps)).every((n) => typeof n === 'string')).toBe(true);
    expect(mux.inFlight).toBe(0);
  });
});
