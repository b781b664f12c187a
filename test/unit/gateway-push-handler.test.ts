/**
 * The gateway's push inbox: encoded pushes (NATS) and, on the memory bus, pushes handed over decoded
 * (BusMsg.value, actors/runtime/effect-sink.ts), one or a batch, delivered alike.
 */
import { describe, expect, it } from 'vitest';
import type { BusMsg } from '../../bus/bus.js';
import { encode } from '../../bus/codec.js';
import { silentLogger } from '../../common/logger.js';
import { createPushHandler, type PushTarget } from '../../gateway/push-handler.js';

function rig() {
  const got: Array<[string, string, unknown]> = [];
  const conns = new Map<string, PushTarget>();
  for (const id of ['a', 'b']) {
    conns.set(id, { handler: { push: (route, body) => void got.push([id, route, body]) }, kick: () => undefined });
  }
  const metrics = { pushesMalformed: 0 };
  const handle = createPushHandler({ connection: (id) => conns.get(id), metrics, log: silentLogger });
  return { got, metrics, handle };
}

describe('gateway push handler', () => {
  it('delivers a push handed over as a value without reading its bytes', () => {
    const { got, metrics, handle } = rig();
    const msg: BusMsg = {
      subject: 'gw.g1.push',
      get data(): Uint8Array {
        throw new Error('data read');
      },
      value: { c: ['a', 'b'], r: 'onChat', b: { msg: 'hi' } },
    };
    handle(msg);
    expect(got).toEqual([
      ['a', 'onChat', { msg: 'hi' }],
      ['b', 'onChat', { msg: 'hi' }],
    ]);
    expect(metrics.pushesMalformed).toBe(0);
  });

  it('delivers a batch of values in order, and an encoded batch the same way', () => {
    for (const asValue of [true, false]) {
      const { got, handle } = rig();
      const batch = [
        { c: ['a'], r: 'r1', b: 1 },
        { c: ['b'], r: 'r2', b: 2 },
      ];
      handle(asValue ? { subject: 's', data: new Uint8Array(0), value: batch } : { subject: 's', data: encode(batch) });
      expect(got).toEqual([
        ['a', 'r1', 1],
        ['b', 'r2', 2],
      ]);
    }
  });

  it('counts a malformed value as it counts malformed bytes', () => {
    const { got, metrics, handle } = rig();
    handle({ subject: 's', data: new Uint8Array(0), value: { c: 'a', r: 'x' } });
    handle({ subject: 's', data: new Uint8Array([0xc1]) });
    expect(got).toEqual([]);
    expect(metrics.pushesMalformed).toBe(2);
  });
});
