/**
 * The in-process fast path (embedded mode): on the in-memory bus, ActorClient.tell hands the receiver a copied
 * envelope instead of MessagePack bytes. The copy-on-send rule (actors/runtime/copy.ts): plain data is deep-copied and
 * equals what the codec would have delivered; anything else goes the encoded way; the sender's later changes never
 * reach the actor; other subscribers reading the bytes get the same envelope; tells and asks keep their order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../../actors/runtime/client.js';
import { NOT_PLAIN, plainCopy } from '../../../actors/runtime/copy.js';
import { decodeEnvelope } from '../../../actors/runtime/envelope.js';
import type { ActorHost } from '../../../actors/runtime/host.js';
import type { BusMsg } from '../../../bus/bus.js';
import { decode, encode } from '../../../bus/codec.js';
import { ManualClock } from '../../../common/clock.js';
import { eventually } from '../../../dev/wait.js';
import { memoryImpl, type Env } from '../../support/impls.js';
import { startHost, TEST_LIMITS } from '../../support/hosts.js';
import { tallyKind } from '../../support/test-kinds.js';

type Tally = { count: number; fired: number; log: Array<[string, unknown]> };
const roundTrip = (v: unknown) => decode(encode(v));

/** Seeded JSON-like values: nested objects and arrays of numbers (ints, floats, -0, NaN), strings, booleans, null, undefined. */
function randomPlain(seed: number, depth = 0): unknown {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s);
  const pick = next() % (depth > 3 ? 6 : 8);
  switch (pick) {
    case 0:
      return next() % 1000;
    case 1:
      return [-0, NaN, 1.5e300, -(2 ** 40), 0.1][next() % 5];
    case 2:
      return ['', 'a', 'é€😀', 'x'.repeat(40)][next() % 4];
    case 3:
      return next() % 2 === 0;
    case 4:
      return null;
    case 5:
      return undefined;
    case 6:
      return Array.from({ length: next() % 4 }, (_, i) => randomPlain(next() + i, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = next() % 4; i > 0; i--) o[`k${next() % 10}`] = randomPlain(next(), depth + 1);
      return o;
    }
  }
}

describe('copy-on-send rule', () => {
  it('copies plain data to exactly what the codec delivers', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const v = randomPlain(seed);
      const copy = plainCopy(v);
      expect(copy).not.toBe(NOT_PLAIN);
      expect(copy).toStrictEqual(roundTrip(v));
      if (v !== null && typeof v === 'object') expect(copy).not.toBe(v);
    }
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    expect(plainCopy({ n: nullProto })).toStrictEqual(roundTrip({ n: nullProto }));
    expect(Object.is(plainCopy(-0), 0)).toBe(true);
  });

  it('refuses what the codec would change, so the sender encodes it', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const v of [new Date(0), new Map([[1, 2]]), new Set([1]), Buffer.from('ab'), new Uint8Array(2), 10n, () => 1, Symbol('s'), new (class X {})(), cyclic, '\ud800', { ['\ud800']: 1 }, JSON.parse('{"__proto__": {"polluted": 1}}')]) {
      expect(plainCopy({ type: 'x', v })).toBe(NOT_PLAIN);
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('in-process tells on the memory bus', () => {
  let env: Env;
  let host: ActorHost;
  let client: ActorClient;
  const prefix = 'cos';
  beforeAll(async () => {
    env = await memoryImpl.setup();
    host = await startHost(env, { kinds: [tallyKind], clock: new ManualClock(), prefix });
    client = new ActorClient(await env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await host?.stop();
    await env?.teardown();
  });

  it('delivers a copy: the sender changing its message after tell changes nothing', async () => {
    const msg = { type: 'inc', from: 'm', n: 1 };
    client.tell({ kind: 'tally', id: 'copy' }, msg);
    msg.n = 99;
    msg.from = 'changed';
    const t = await client.ask<Tally>({ kind: 'tally', id: 'copy' }, { type: 'get' });
    expect(t.log).toEqual([['m', 1]]);
  });

  it('sends what is not plain data the encoded way (a Date arrives as the codec makes it)', async () => {
    client.tell({ kind: 'tally', id: 'dated' }, { type: 'inc', from: 'd', n: new Date(5) });
    const t = await client.ask<Tally>({ kind: 'tally', id: 'dated' }, { type: 'get' });
    expect(t.log).toEqual([['d', roundTrip(new Date(5))]]);
  });

  it('gives other subscribers the envelope as bytes', async () => {
    const tap = await env.connect(prefix);
    const seen: BusMsg[] = [];
    tap.subscribe(client.subjectOf({ kind: 'tally', id: 'tapped' }), (m) => seen.push(m));
    await tap.flush();
    client.tell({ kind: 'tally', id: 'tapped' }, { type: 'inc', from: 't', n: 7 });
    await eventually(() => seen.length === 1, { what: 'tap got the tell' });
    const e = decodeEnvelope(seen[0]!.data);
    expect(e).toMatchObject({ m: { type: 'inc', from: 't', n: 7 }, s: client.senderId });
    await tap.close();
  });

  it('keeps one sender order across tells (in process) and asks (encoded): no ask taken for a duplicate', async () => {
    const id = { kind: 'tally', id: 'mixed' };
    const asks: Array<Promise<unknown>> = [];
    for (let n = 0; n < 200; n++) {
      if (n % 3 === 0) asks.push(client.ask(id, { type: 'inc', from: 'x', n }));
      else client.tell(id, { type: 'inc', from: 'x', n });
    }
    await Promise.all(asks);
    const t = await client.ask<Tally>(id, { type: 'get' });
    expect(t.log.map(([, n]) => n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(host.metrics.duplicates).toBe(0);
  });
});
