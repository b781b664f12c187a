/**
 * The native codec's edges that mutation testing found unchecked (protocol/native/codec.ts, frames.ts): each refusal's
 * exact text (the gateway sends it in the `error` frame; it names the field and the bound, which is how a client
 * author finds the fault), every limit at its exact bound, the req id read from frames that do not parse, the frame
 * directions, and encode failures that are still ProtocolErrors.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  Limits,
  decodeFrame,
  encodeFrame,
  isClientFrame,
  type Frame,
} from '../../protocol/native/index.js';
import { bytes, hex, thrown } from '../support/native-bytes.js';

// Raw field arrays to bytes, for frames our own encoder refuses to write (it validates like the decoder).
const raw = new Packr({ useRecords: false });
const wire = (fields: unknown[]) => new Uint8Array(raw.pack(fields));

const refusal = (fn: () => unknown) => {
  const e = thrown(fn);
  return { code: e.code, message: e.message, id: e.id };
};
const bad = (message: string, id?: number) => ({ code: 'BAD_FRAME', message, id });

const PLAIN = 'plain data (nil, boolean, number, string, bin, array, map) nested at most 32 deep';
const ROUTE = 'dot-separated [A-Za-z0-9_-] tokens, at most 128 characters';
const CODE = 'an UPPER_SNAKE code of at most 64 characters';
const TEXT = 'a string of at most 1024 characters';
const UINT32 = 'an integer in 0..4294967295';
const arityOf = (type: string, want: string, got: number, s = 's') =>
  `${type} must have ${want} element${s} including the tag, got ${got}`;

describe('native codec: the refusal of every field says which field and which bound', () => {
  // name, bytes, exact refusal
  const cases: Array<[string, string, ReturnType<typeof bad>]> = [
    ['not a fixarray: one byte', '91', bad('a frame is a MessagePack fixarray [tag, ...fields]')],
    ['not a fixarray: empty', '', bad('a frame is a MessagePack fixarray [tag, ...fields]')],
    ['not a fixarray: a map', '81a17401', bad('a frame is a MessagePack fixarray [tag, ...fields]')],
    ['not a fixarray: array16', 'dc0001 07', bad('a frame is a MessagePack fixarray [tag, ...fields]')],
    ['not a fixarray: 8 elements', '98 07 c0c0c0c0c0c0c0', bad('a frame is a MessagePack fixarray [tag, ...fields]')],
    ['unknown tag', '91 0c', bad('unknown frame tag 12')],
    ['tag a string', '91 a131', bad('unknown frame tag string')],
    ['tag nil', '91 c0', bad('unknown frame tag object')],
    // arity, too many and too few, for every tag
    ['hello with 6 elements', '96 01 01 c0 c0 c0 c0', bad(arityOf('hello', '2 to 5', 6))],
    ['hello with only the tag', '91 01', bad(arityOf('hello', '2 to 5', 1))],
    ['welcome with 6 elements', '96 02 01 a27331 a3746b31 cd3a98 ce00010000', bad(arityOf('welcome', '7', 6))],
    ['req with 3 elements', '93 03 05 a161', bad(arityOf('req', '4', 3), 5)],
    ['req with 5 elements', '95 03 05 a161 c0 c0', bad(arityOf('req', '4', 5), 5)],
    ['notify with 2 elements', '92 0b a161', bad(arityOf('notify', '3', 2))],
    ['notify with 4 elements', '94 0b a161 c0 c0', bad(arityOf('notify', '3', 4))],
    ['res with 2 elements', '92 04 01', bad(arityOf('res', '3', 2))],
    ['res error with 3 elements', '93 05 01 a154', bad(arityOf('res', '4', 3))],
    ['push with 2 elements', '92 06 a161', bad(arityOf('push', '3', 2))],
    ['ping with 2 elements', '92 07 00', bad(arityOf('ping', '1', 2, ''))],
    ['pong with 2 elements', '92 08 00', bad(arityOf('pong', '1', 2, ''))],
    ['close with 2 elements', '92 09 cd0fa0', bad(arityOf('close', '3', 2))],
    ['error with 2 elements', '92 0a a14e', bad(arityOf('error', '3 to 4', 2))],
    ['error with 5 elements', '95 0a a14e a0 01 01', bad(arityOf('error', '3 to 4', 5))],
    // hello
    ['hello version 0', '92 01 00', bad('hello.v must be an integer in 1..65535')],
    ['hello version 65536', '92 01 ce00010000', bad('hello.v must be an integer in 1..65535')],
    ['hello ticket a space', '93 01 01 a3742031', bad('hello.ticket must be 1..512 visible ASCII characters')],
    ['hello ticket a number', '93 01 01 7b', bad('hello.ticket must be 1..512 visible ASCII characters')],
    ['hello client with a control byte first', '94 01 01 c0 a3016162', bad('hello.client must be 1..128 printable ASCII characters')],
    ['hello client with a control byte last', '94 01 01 c0 a3616201', bad('hello.client must be 1..128 printable ASCII characters')],
    ['hello client a number', '94 01 01 c0 7b', bad('hello.client must be 1..128 printable ASCII characters')],
    ['hello token with a space', '95 01 01 c0 c0 a3612062', bad('hello.token must be 1..4096 visible ASCII characters')],
    ['hello with a nil ticket last', '93 01 01 c0', bad('hello.ticket must be omitted rather than nil')],
    ['hello with a nil client last', '94 01 01 a3746b31 c0', bad('hello.client must be omitted rather than nil')],
    ['hello with a nil token last', '95 01 01 c0 c0 c0', bad('hello.token must be omitted rather than nil')],
    // welcome: v, session, ticket, heartbeatMs, maxFrameBytes, resumed
    ['welcome resumed 1', '97 02 01 a27331 a3746b31 cd3a98 ce00010000 01', bad('welcome.resumed must be a boolean')],
    ['welcome v 0', '97 02 00 a27331 a3746b31 cd3a98 ce00010000 c2', bad('welcome.v must be an integer in 1..65535')],
    ['welcome session empty', '97 02 01 a0 a3746b31 cd3a98 ce00010000 c2', bad('welcome.session must be 1..128 visible ASCII characters')],
    ['welcome session a number', '97 02 01 07 a3746b31 cd3a98 ce00010000 c2', bad('welcome.session must be 1..128 visible ASCII characters')],
    ['welcome ticket empty', '97 02 01 a27331 a0 cd3a98 ce00010000 c2', bad('welcome.ticket must be 1..512 visible ASCII characters')],
    ['welcome heartbeat 0', '97 02 01 a27331 a3746b31 00 ce00010000 c2', bad('welcome.heartbeatMs must be an integer in 1..2147483647')],
    ['welcome maxFrameBytes 1023', '97 02 01 a27331 a3746b31 cd3a98 cd03ff c2', bad('welcome.maxFrameBytes must be an integer in 1024..2147483647')],
    // req, notify, res, push
    ['req id a string', '94 03 a131 a161 c0', bad(`req.id must be ${UINT32}`)],
    ['req route empty', '94 03 05 a0 c0', bad(`req.route must be ${ROUTE}`, 5)],
    ['req body a Date', '94 03 05 a161 d6ff00000001', bad(`req.body must be ${PLAIN}`, 5)],
    ['notify route a wildcard', '93 0b a12a c0', bad(`notify.route must be ${ROUTE}`)],
    ['notify body a Date', '93 0b a161 d6ff00000001', bad(`notify.body must be ${PLAIN}`)],
    ['res id negative', '93 04 ff c0', bad(`res.id must be ${UINT32}`)],
    ['res body a Date keeps the id', '93 04 09 d6ff00000001', bad(`res.body must be ${PLAIN}`, 9)],
    ['res error id negative', '94 05 ff a154 a0', bad(`res.id must be ${UINT32}`)],
    ['res error code lower case', '94 05 01 a474696d65 a0', bad(`res.error.code must be ${CODE}`)],
    ['res error message a number', '94 05 01 a154 05', bad(`res.error.message must be ${TEXT}`)],
    ['push route with a space', '93 06 a3612062 c0', bad(`push.route must be ${ROUTE}`)],
    ['push body a Date', '93 06 a161 d6ff00000001', bad(`push.body must be ${PLAIN}`)],
    // close, error
    ['close code 3999', '93 09 cd0f9f a0', bad('close.code must be an integer in 4000..4999')],
    ['close reason nil', '93 09 cd0fa0 c0', bad('close.reason must be a string of at most 123 UTF-8 bytes')],
    ['error code with a lower-case first letter', '93 0a a8 78 54 49 4d 45 4f 55 54 a0', bad(`error.code must be ${CODE}`)],
    ['error code ending in a dash', '93 0a a8 54 49 4d 45 4f 55 54 2d a0', bad(`error.code must be ${CODE}`)],
    ['error code an array holding a code', '93 0a 91a14e a0', bad(`error.code must be ${CODE}`)],
    ['error message a number', '93 0a a14e 05', bad(`error.message must be ${TEXT}`)],
    ['error id negative', '94 0a a14e a0 ff', bad(`error.id must be ${UINT32}`)],
  ];
  for (const [name, h, want] of cases) {
    it(name, () => expect(refusal(() => decodeFrame(bytes(h)))).toEqual(want));
  }

  it('says what is not bytes', () => {
    expect(refusal(() => decodeFrame('9107' as unknown as Uint8Array))).toEqual(bad('a frame must be bytes'));
  });

  it('names the type and the limit of a frame too large, both ways', () => {
    expect(refusal(() => decodeFrame(new Uint8Array(64 * 1024 + 1)))).toEqual({
      code: 'FRAME_TOO_LARGE',
      message: 'frame of 65537 bytes exceeds 65536',
      id: undefined,
    });
    const res: Frame = { type: 'res', id: 77, body: 'x'.repeat(2000) };
    const size = encodeFrame(res).length;
    expect(encodeFrame(res, { maxFrameBytes: size })).toHaveLength(size);
    expect(refusal(() => encodeFrame(res, { maxFrameBytes: size - 1 }))).toEqual({
      code: 'FRAME_TOO_LARGE',
      message: `res frame of ${size} bytes exceeds ${size - 1}`,
      id: 77,
    });
  });

  it('names an unknown frame type on encode', () => {
    expect(refusal(() => encodeFrame({ type: 'nope' } as unknown as Frame))).toEqual(bad('unknown frame type "nope"'));
  });
});

describe('native codec: MessagePack errors', () => {
  it('passes the library error on as the cause and its text in the message', () => {
    for (const h of ['94 03 2a aa6368', '9107 00', '92 07 cb3f']) {
      const e = thrown(() => decodeFrame(bytes(h)));
      expect(e.code, h).toBe('BAD_FRAME');
      expect(e.cause, h).toBeInstanceOf(Error);
      expect(e.message, h).toBe(`malformed MessagePack: ${(e.cause as Error).message}`);
    }
  });

  it('a RangeError that is not a stack overflow stays "malformed" (a float cut short)', () => {
    const e = thrown(() => decodeFrame(bytes('92 07 cb3f')));
    expect(e.cause).toBeInstanceOf(RangeError);
    expect(e.message).not.toContain('nested');
  });

  it('a body nested deep enough to overflow the decoder is refused as too deep, keeping the req id', () => {
    const deep = bytes('94 03 2a a161' + '91'.repeat(60_000) + '01');
    expect(deep.length).toBeLessThanOrEqual(64 * 1024);
    const e = thrown(() => decodeFrame(deep));
    expect([e.code, e.message, e.id]).toEqual(['BAD_FRAME', 'body must be nested at most 32 deep', 42]);
    expect(e.cause).toBeInstanceOf(RangeError);
  });
});

describe('native codec: the req id of a frame that does not parse', () => {
  // Truncated or malformed frames: the id comes from the raw bytes, only for a 4-element req with a whole id.
  const cases: Array<[string, string, number | undefined]> = [
    ['positive fixint id, nothing after it', '94 03 2a', 42],
    ['largest fixint id', '94 03 7f a5', 127],
    ['uint8 id, exactly 4 bytes', '94 03 cc80', 128],
    ['uint8 id cut off', '94 03 cc', undefined],
    ['uint16 id, exactly 5 bytes', '94 03 cd012c', 300],
    ['uint16 id cut off', '94 03 cd01', undefined],
    ['uint32 id, exactly 7 bytes', '94 03 ce00010000', 65536],
    ['uint32 id cut off', '94 03 ce000100', undefined],
    ['uint64 id: not read', '94 03 cf00000001 00', undefined],
    ['int8 id: not read', '94 03 d005 a5', undefined],
    ['a req of 3 elements', '93 03 05 a5', undefined],
    ['a res error, not a req', '94 05 2a a5', undefined],
    ['a hello of 4 elements', '94 01 2a a5', undefined],
  ];
  for (const [name, h, id] of cases) {
    it(`${name} -> ${id}`, () => {
      const e = thrown(() => decodeFrame(bytes(h)));
      expect([e.code, e.id]).toEqual(['BAD_FRAME', id]);
    });
  }

  it('a frame too large carries an id only if it is a req', () => {
    const limits = { maxFrameBytes: 1024 };
    const body = 'x'.repeat(2000);
    expect(thrown(() => decodeFrame(encodeFrame({ type: 'req', id: 300, route: 'a', body }), limits)).id).toBe(300);
    expect(thrown(() => decodeFrame(encodeFrame({ type: 'res', id: 300, body }), limits)).id).toBeUndefined();
    expect(thrown(() => decodeFrame(encodeFrame({ type: 'push', route: 'a', body }), limits)).id).toBeUndefined();
  });
});

describe('native codec: limits at their exact bounds', () => {
  const roundTrip = (f: Frame) => expect(decodeFrame(encodeFrame(f))).toStrictEqual(f);
  const v = (n: number, c = 'a') => c.repeat(n);

  it('hello ticket, client and token', () => {
    roundTrip({ type: 'hello', v: 1, ticket: v(Limits.ticket) });
    roundTrip({ type: 'hello', v: 1, client: v(Limits.client) });
    roundTrip({ type: 'hello', v: 1, token: v(Limits.token) });
    expect(refusal(() => decodeFrame(wire([1, 1, v(513)])))).toEqual(bad('hello.ticket must be 1..512 visible ASCII characters'));
    expect(refusal(() => decodeFrame(wire([1, 1, null, v(129)])))).toEqual(bad('hello.client must be 1..128 printable ASCII characters'));
    expect(refusal(() => decodeFrame(wire([1, 1, null, null, v(4097)])))).toEqual(bad('hello.token must be 1..4096 visible ASCII characters'));
  });

  it('welcome session', () => {
    const w = (session: string) => ({ type: 'welcome', v: 1, session, ticket: 't', heartbeatMs: 1, maxFrameBytes: 1024, resumed: true }) as const;
    roundTrip(w(v(128)));
    expect(refusal(() => encodeFrame(w(v(129))))).toEqual(bad('welcome.session must be 1..128 visible ASCII characters'));
  });

  it('routes', () => {
    roundTrip({ type: 'push', route: v(128), body: null });
    expect(refusal(() => decodeFrame(wire([6, v(129), null])))).toEqual(bad(`push.route must be ${ROUTE}`));
  });

  it('error codes and messages', () => {
    roundTrip({ type: 'error', code: v(64, 'A'), message: v(1024) });
    expect(refusal(() => decodeFrame(wire([10, v(65, 'A'), ''])))).toEqual(bad(`error.code must be ${CODE}`));
    expect(refusal(() => decodeFrame(wire([10, 'A', v(1025)])))).toEqual(bad(`error.message must be ${TEXT}`));
    expect(refusal(() => decodeFrame(wire([5, 1, 'A', v(1025)])))).toEqual(bad(`res.error.message must be ${TEXT}`));
  });

  it('map nesting counts like array nesting: 32 levels, not 33', () => {
    const nest = (n: number): unknown => (n === 0 ? 1 : { k: nest(n - 1) });
    roundTrip({ type: 'push', route: 'a', body: nest(32) });
    expect(refusal(() => decodeFrame(wire([6, 'a', nest(33)])))).toEqual(bad(`push.body must be ${PLAIN}`));
  });
});

describe('native codec: what the checks accept', () => {
  it('routes: tokens of several characters, dots between them', () => {
    for (const route of ['ab', 'a.bc', 'chat.room-1.say_hi', 'A_-9']) {
      expect(decodeFrame(encodeFrame({ type: 'push', route, body: null }))).toEqual({ type: 'push', route, body: null });
    }
    for (const route of ['*', 'a.*', 'a.b c', '.a', 'a.']) {
      expect(refusal(() => decodeFrame(wire([6, route, null]))), route).toEqual(bad(`push.route must be ${ROUTE}`));
    }
  });

  it('codes: one upper-case letter, then upper-case letters, digits, underscores', () => {
    for (const code of ['A', 'NOT_READY', 'E2E_1']) expect(decodeFrame(wire([10, code, '']))).toMatchObject({ code });
  });

  it('a client description may hold spaces, a ticket may not', () => {
    expect(decodeFrame(wire([1, 1, null, 'sdk ts 1']))).toStrictEqual({ type: 'hello', v: 1, client: 'sdk ts 1' });
  });

  it('hello with every optional field, and each combination, in field order with nil for the gaps', () => {
    const cases: Array<[Frame, string]> = [
      [{ type: 'hello', v: 1, ticket: 'tk1', client: 'c', token: 't' }, '95 01 01 a3746b31 a163 a174'],
      [{ type: 'hello', v: 1, ticket: 'tk1', token: 't' }, '95 01 01 a3746b31 c0 a174'],
      [{ type: 'hello', v: 1, client: 'c', token: 't' }, '95 01 01 c0 a163 a174'],
      [{ type: 'hello', v: 1, ticket: 'tk1', client: 'c' }, '94 01 01 a3746b31 a163'],
    ];
    for (const [frame, h] of cases) {
      expect(hex(encodeFrame(frame))).toBe(h.replace(/\s+/g, ''));
      expect(decodeFrame(bytes(h))).toStrictEqual(frame);
    }
  });
});

describe('native codec: bodies', () => {
  it('refuses functions, symbols and bigints with the body message, even a function without a prototype', () => {
    const bare = Object.setPrototypeOf(() => 1, null) as unknown;
    for (const body of [bare, () => 1, Symbol('s'), 1n, [bare], { a: Symbol('s') }]) {
      expect(refusal(() => encodeFrame({ type: 'push', route: 'a', body }))).toEqual(bad(`push.body must be ${PLAIN}`));
    }
  });

  it('an encode failure after the checks is still a ProtocolError naming the frame type, with the cause', () => {
    const boom = new Error('boom');
    let reads = 0;
    // Passes the body check (first read), then throws inside the MessagePack writer (second read).
    const body = {
      get x() {
        if (++reads > 1) throw boom;
        return 1;
      },
    };
    const e = thrown(() => encodeFrame({ type: 'push', route: 'a', body }));
    expect([e.code, e.message, e.cause]).toEqual(['BAD_FRAME', 'cannot encode push: boom', boom]);
    let again = 0;
    const odd = {
      get x() {
        if (++again > 1) throw undefined; // eslint-disable-line no-throw-literal
        return 1;
      },
    };
    expect(refusal(() => encodeFrame({ type: 'res', id: 4, body: odd }))).toEqual(bad('cannot encode res: undefined'));
  });
});

describe('native frames: direction', () => {
  it('hello, req, notify, ping, pong and close are client frames; welcome, res, push and error are not', () => {
    const client: Frame[] = [
      { type: 'hello', v: 1 },
      { type: 'req', id: 1, route: 'a', body: null },
      { type: 'notify', route: 'a', body: null },
      { type: 'ping' },
      { type: 'pong' },
      { type: 'close', code: 4000, reason: '' },
    ];
    const server: Frame[] = [
      { type: 'welcome', v: 1, session: 's', ticket: 't', heartbeatMs: 1, maxFrameBytes: 1024, resumed: false },
      { type: 'res', id: 1, body: null },
      { type: 'push', route: 'a', body: null },
      { type: 'error', code: 'A', message: '' },
    ];
    for (const f of client) expect(isClientFrame(f), f.type).toBe(true);
    for (const f of server) expect(isClientFrame(f), f.type).toBe(false);
  });
});
