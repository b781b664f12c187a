/**
 * The native codec and TCP framing, byte by byte: every frame type against its exact bytes (the hex examples in
 * docs/PROTOCOL.md are these), every malformed input against its error code.
 */
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../common/errors.js';
import {
  ClientErrorCode,
  createTcpFrameDecoder,
  decodeFrame,
  encodeFrame,
  encodeTcp,
  type Frame,
} from '../../protocol/native/index.js';
import { bytes, hex, thrown } from '../support/native-bytes.js';



// [frame, exact bytes]. Spaces separate tag and fields for the reader.
const known: Array<[string, Frame, string]> = [
  ['hello', { type: 'hello', v: 1 }, '92 01 01'],
  ['hello with ticket', { type: 'hello', v: 1, ticket: 'tk1' }, '93 01 01 a3746b31'],
  ['hello with client only', { type: 'hello', v: 1, client: 'sdk-ts/0.1' }, '94 01 01 c0 aa73646b2d74732f302e31'],
  ['hello with a token only (docs/PROTOCOL.md)', { type: 'hello', v: 1, token: 'eyJ..' }, '95 01 01 c0 c0 a565794a2e2e'],
  [
    'welcome',
    { type: 'welcome', v: 1, session: 's1', ticket: 'tk1', heartbeatMs: 15000, maxFrameBytes: 65536, resumed: false },
    '97 02 01 a27331 a3746b31 cd3a98 ce00010000 c2',
  ],
  [
    'req',
    { type: 'req', id: 1, route: 'chat.enter', body: { room: 'lobby' } },
    '94 03 01 aa636861742e656e746572 81a4726f6f6da56c6f626279',
  ],
  ['req with uint16 id and nil body', { type: 'req', id: 300, route: 'a', body: null }, '94 03 cd012c a161 c0'],
  ['req with the largest id', { type: 'req', id: 0xffffffff, route: 'a', body: null }, '94 03 ceffffffff a161 c0'],
  ['res', { type: 'res', id: 1, body: { ok: true } }, '93 04 01 81a26f6bc3'],
  [
    'res error',
    { type: 'res', id: 1, error: { code: 'TIMEOUT', message: 'late' } },
    '94 05 01 a754494d454f5554 a46c617465',
  ],
  ['push', { type: 'push', route: 'chat.msg', body: ['hi'] }, '93 06 a8636861742e6d7367 91a26869'],
  ['ping', { type: 'ping' }, '91 07'],
  ['pong', { type: 'pong' }, '91 08'],
  ['close', { type: 'close', code: 4000, reason: 'bye' }, '93 09 cd0fa0 a3627965'],
  ['error', { type: 'error', code: 'NOT_READY', message: 'x' }, '93 0a a94e4f545f5245414459 a178'],
  [
    'error about a request',
    { type: 'error', code: 'NOT_READY', message: 'x', id: 7 },
    '94 0a a94e4f545f5245414459 a178 07',
  ],
];

describe('native codec: exact bytes', () => {
  for (const [name, frame, h] of known) {
    it(`${name} encodes to ${h} and back`, () => {
      const b = encodeFrame(frame);
      expect(hex(b)).toBe(h.replace(/\s+/g, ''));
      expect(decodeFrame(bytes(h))).toStrictEqual(frame);
    });
  }

  it('bin bodies stay bytes', () => {
    const b = encodeFrame({ type: 'push', route: 'r', body: new Uint8Array([1, 2, 3]) });
    expect(hex(b)).toBe('9306a172c403010203');
    const f = decodeFrame(b);
    expect(f.type === 'push' && [...(f.body as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('drops undefined properties and sends other undefined values as nil, like JSON', () => {
    expect(hex(encodeFrame({ type: 'res', id: 2, body: { a: undefined, b: 1 } }))).toBe('93040281a16201');
    expect(hex(encodeFrame({ type: 'res', id: 2, body: undefined }))).toBe('930402c0');
    expect(hex(encodeFrame({ type: 'res', id: 2, body: [undefined] }))).toBe('93040291c0');
  });

  it('accepts non-minimal integer encodings from other MessagePack writers', () => {
    expect(decodeFrame(bytes('94 03 cc01 a161 c0'))).toStrictEqual({ type: 'req', id: 1, route: 'a', body: null });
    expect(decodeFrame(bytes('94 03 cf0000000000000001 a161 c0'))).toMatchObject({ id: 1 });
  });

  it('reads 64-bit integers as numbers while exact, e.g. a millisecond timestamp', () => {
    const f = decodeFrame(bytes('94 03 01 a161 cf0000018bcfe56800'));
    expect(f).toStrictEqual({ type: 'req', id: 1, route: 'a', body: 1700000000000 });
    expect(decodeFrame(bytes('94 03 01 a161 d3ffe0000000000000'))).toMatchObject({ body: -(2 ** 53) });
  });

  it('decodes a frame that is a view into a larger buffer (as the TCP decoder hands out)', () => {
    const stream = bytes('ff ff 93 04 01 81a26f6bc3 ff');
    expect(decodeFrame(stream.subarray(2, 10))).toStrictEqual({ type: 'res', id: 1, body: { ok: true } });
  });

  it('a map key __proto__ stays data and cannot reach a prototype', () => {
    const f = decodeFrame(bytes('93 04 01 81 a95f5f70726f746f5f5f 81a178c3'));
    expect(f.type === 'res' && Object.getPrototypeOf(f.body)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('native codec: malformed input', () => {
  const cases: Array<[string, string, string, number | undefined]> = [
    // name, bytes, expected code, expected id
    ['empty', '', 'BAD_FRAME', undefined],
    ['nil instead of an array', 'c0', 'BAD_FRAME', undefined],
    ['a map', '81a17401', 'BAD_FRAME', undefined],
    ['array16 instead of fixarray', 'dc0001 07', 'BAD_FRAME', undefined],
    ['empty array', '90', 'BAD_FRAME', undefined],
    ['trailing byte', '9107 00', 'BAD_FRAME', undefined],
    ['truncated req keeps its id', '94 03 2a aa6368', 'BAD_FRAME', 42],
    ['truncated req with a uint32 id', '94 03 ce00010000 a5', 'BAD_FRAME', 65536],
    ['a ping carrying the never-used byte 0xc1', '92 07 c1', 'BAD_FRAME', undefined],
    ['unknown tag', '91 0c', 'BAD_FRAME', undefined],
    ['tag 0', '91 00', 'BAD_FRAME', undefined],
    ['tag as a string', '91 a131', 'BAD_FRAME', undefined],
    ['ping with a field', '92 07 00', 'BAD_FRAME', undefined],
    ['req missing its body', '93 03 05 a161', 'BAD_FRAME', 5],
    ['req with an extra field', '95 03 05 a161 c0 c0', 'BAD_FRAME', 5],
    ['req id negative', '94 03 ff a161 c0', 'BAD_FRAME', undefined],
    ['req id a float', '94 03 cb3ff8000000000000 a161 c0', 'BAD_FRAME', undefined],
    ['req id over uint32', '94 03 cf0000000100000000 a161 c0', 'BAD_FRAME', undefined],
    ['req id a string', '94 03 a131 a161 c0', 'BAD_FRAME', undefined],
    ['req route empty', '94 03 05 a0 c0', 'BAD_FRAME', 5],
    ['req route a wildcard', '94 03 05 a6636861742e2a c0', 'BAD_FRAME', 5],
    ['req route with an empty token', '94 03 05 a4612e2e62 c0', 'BAD_FRAME', 5],
    ['req route with a space', '94 03 05 a3612062 c0', 'BAD_FRAME', 5],
    ['req route not a string', '94 03 05 01 c0', 'BAD_FRAME', 5],
    ['req body a Date (timestamp extension)', '94 03 05 a161 d6ff00000001', 'BAD_FRAME', 5],
    ['req body undefined (msgpackr extension)', '94 03 05 a161 d40000', 'BAD_FRAME', 5],
    ['req body an integer over 2^53', '94 03 05 a161 cf0020000000000001', 'BAD_FRAME', 5],
    ['req body an integer under -2^53', '94 03 05 a161 d3ffdfffffffffffff', 'BAD_FRAME', 5],
    ['req body holding 0xc1', '94 03 05 a161 91c1', 'BAD_FRAME', 5],
    ['hello version 0', '92 01 00', 'BAD_FRAME', undefined],
    ['hello version a string', '92 01 a131', 'BAD_FRAME', undefined],
    ['hello with a nil ticket and no client', '93 01 01 c0', 'BAD_FRAME', undefined],
    ['hello with a nil client', '94 01 01 a3746b31 c0', 'BAD_FRAME', undefined],
    ['hello with a nil token', '95 01 01 c0 c0 c0', 'BAD_FRAME', undefined],
    ['hello with a non-visible token', '95 01 01 c0 c0 a3 61 20 62', 'BAD_FRAME', undefined],
    ['hello ticket with a space', '93 01 01 a3742031', 'BAD_FRAME', undefined],
    ['hello ticket empty', '93 01 01 a0', 'BAD_FRAME', undefined],
    ['welcome resumed as 1', '97 02 01 a27331 a3746b31 cd3a98 ce00010000 01', 'BAD_FRAME', undefined],
    ['welcome maxFrameBytes under the minimum', '97 02 01 a27331 a3746b31 cd3a98 cd03ff c2', 'BAD_FRAME', undefined],
    ['res error with a lower-case code', '94 05 01 a474696d65 a0', 'BAD_FRAME', undefined],
    ['close code under 4000', '93 09 cd0f9f a0', 'BAD_FRAME', undefined],
    ['close code over 4999', '93 09 cd1388 a0', 'BAD_FRAME', undefined],
    ['close reason not a string', '93 09 cd0fa0 c0', 'BAD_FRAME', undefined],
    ['error id negative', '94 0a a14e a0 ff', 'BAD_FRAME', undefined],
  ];
  for (const [name, h, code, id] of cases) {
    it(`${name} -> ${code}${id === undefined ? '' : ` (id ${id})`}`, () => {
      const e = thrown(() => decodeFrame(bytes(h)));
      expect(e.code).toBe(code);
      expect(e.id).toBe(id);
    });
  }

  it('rejects frames over maxFrameBytes before parsing, keeping a req id', () => {
    const b = encodeFrame({ type: 'req', id: 9, route: 'a', body: 'x'.repeat(100) });
    expect(decodeFrame(b, { maxFrameBytes: b.length }).type).toBe('req');
    const e = thrown(() => decodeFrame(b, { maxFrameBytes: b.length - 1 }));
    expect([e.code, e.id]).toEqual(['FRAME_TOO_LARGE', 9]);
    expect(thrown(() => decodeFrame(new Uint8Array(64 * 1024 + 1))).code).toBe('FRAME_TOO_LARGE');
  });

  it('rejects what is not bytes', () => {
    expect(thrown(() => decodeFrame('9107' as unknown as Uint8Array)).code).toBe('BAD_FRAME');
  });

  it('limits body nesting to 32 levels', () => {
    const nest = (n: number): unknown => (n === 0 ? 1 : [nest(n - 1)]);
    const ok = encodeFrame({ type: 'req', id: 1, route: 'a', body: nest(32) });
    expect(decodeFrame(ok).type).toBe('req');
    // Hand-built: the 33-deep body cannot be encoded by us at all.
    const deep = bytes('94 03 01 a161' + '91'.repeat(33) + '01');
    expect(thrown(() => decodeFrame(deep)).code).toBe('BAD_FRAME');
  });

  it('close reasons are limited in UTF-8 bytes, not characters', () => {
    const fits = '€'.repeat(41); // 123 bytes
    expect(decodeFrame(encodeFrame({ type: 'close', code: 4000, reason: fits }))).toMatchObject({ reason: fits });
    expect(thrown(() => encodeFrame({ type: 'close', code: 4000, reason: fits + 'a' })).code).toBe('BAD_FRAME');
  });

  it('ProtocolError is a GatehouseError with a wire form and no stack on the wire', () => {
    const e = thrown(() => decodeFrame(bytes('91 0c')));
    expect(e).toBeInstanceOf(GatehouseError);
    expect(e.name).toBe('ProtocolError');
    expect(e.toWire()).toEqual({ code: ClientErrorCode.BadFrame, message: 'unknown frame tag 12' });
  });
});

describe('native codec: encoding refuses what decoding would', () => {
  const bad: Array<[string, unknown]> = [
    ['a route with a wildcard', { type: 'req', id: 1, route: 'chat.>', body: null }],
    ['a Map body', { type: 'push', route: 'a', body: new Map([[1, 2]]) }],
    ['a Date body', { type: 'push', route: 'a', body: { at: new Date(0) } }],
    ['a bigint body', { type: 'push', route: 'a', body: 1n }],
    ['a function body', { type: 'push', route: 'a', body: () => 1 }],
    ['an id over uint32', { type: 'res', id: 2 ** 32, body: null }],
    ['a close code outside 4000-4999', { type: 'close', code: 1000, reason: '' }],
    ['an unknown type', { type: 'nope' }],
  ];
  for (const [name, frame] of bad) {
    it(name, () => expect(thrown(() => encodeFrame(frame as Frame)).code).toBe('BAD_FRAME'));
  }

  it('refuses a frame over the limit with FRAME_TOO_LARGE and the id, so the gateway can answer with an error', () => {
    const e = thrown(() => encodeFrame({ type: 'res', id: 77, body: 'x'.repeat(2000) }, { maxFrameBytes: 1024 }));
    expect([e.code, e.id]).toEqual(['FRAME_TOO_LARGE', 77]);
  });
});

describe('TCP framing', () => {
  const ping = bytes('9107');
  const req = encodeFrame({ type: 'req', id: 1, route: 'chat.enter', body: { room: 'lobby' } });

  it('prefixes a frame with its 4-byte big-endian length', () => {
    expect(hex(encodeTcp(ping))).toBe('000000029107');
    expect(hex(encodeTcp(new Uint8Array(0x010203)).subarray(0, 4))).toBe('00010203');
  });

  it('splits many frames out of one chunk, as views of it', () => {
    const chunk = bytes(hex(encodeTcp(ping)) + hex(encodeTcp(req)) + hex(encodeTcp(ping)));
    const d = createTcpFrameDecoder();
    const out = d.push(chunk);
    expect(out.map(hex)).toEqual(['9107', hex(req), '9107']);
    expect(out[0]!.buffer).toBe(chunk.buffer);
    expect(d.buffered).toBe(0);
  });

  it('reassembles frames fed one byte at a time', () => {
    const stream = bytes(hex(encodeTcp(req)) + hex(encodeTcp(ping)));
    const d = createTcpFrameDecoder();
    const seen: string[] = [];
    const completedAt: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      for (const f of d.push(stream.subarray(i, i + 1))) {
        seen.push(hex(f));
        completedAt.push(i + 1);
      }
    }
    expect(seen).toEqual([hex(req), '9107']);
    expect(completedAt).toEqual([4 + req.length, stream.length]);
    expect(d.buffered).toBe(0);
  });

  it('handles a split inside the prefix and inside the frame in one stream', () => {
    const stream = bytes(hex(encodeTcp(req)) + hex(encodeTcp(req)));
    const d = createTcpFrameDecoder();
    expect(d.push(stream.subarray(0, 2))).toEqual([]);
    expect(d.buffered).toBe(2);
    expect(d.push(stream.subarray(2, 10))).toEqual([]);
    expect(d.buffered).toBe(10);
    const cut = 4 + req.length + 3;
    expect(d.push(stream.subarray(10, cut)).map(hex)).toEqual([hex(req)]);
    expect(d.buffered).toBe(3);
    expect(d.push(stream.subarray(cut)).map(hex)).toEqual([hex(req)]);
    expect(d.buffered).toBe(0);
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const d = createTcpFrameDecoder({ maxFrameBytes: 1024 });
    expect(d.push(encodeTcp(new Uint8Array(1024)))[0]!.length).toBe(1024);
  });

  it('rejects an oversized length from the prefix alone, buffering nothing, and stays failed', () => {
    const d = createTcpFrameDecoder({ maxFrameBytes: 1024 });
    const e = thrown(() => d.push(bytes('00000401')));
    expect(e.code).toBe('FRAME_TOO_LARGE');
    expect(d.buffered).toBe(0);
    expect(thrown(() => d.push(ping))).toBe(e);
  });

  it('reads the length as unsigned', () => {
    const e = thrown(() => createTcpFrameDecoder().push(bytes('ffffffff00')));
    expect(e.message).toContain('4294967295');
  });

  it('rejects an oversized length split across chunks as soon as the prefix completes', () => {
    const d = createTcpFrameDecoder();
    expect(d.push(bytes('0001'))).toEqual([]);
    expect(thrown(() => d.push(bytes('0001'))).code).toBe('FRAME_TOO_LARGE');
  });

  it('rejects a zero length', () => {
    expect(thrown(() => createTcpFrameDecoder().push(bytes('00000000'))).code).toBe('BAD_FRAME');
  });

  it('a bad prefix fails the whole chunk, frames before it included: the connection is closing anyway', () => {
    const d = createTcpFrameDecoder();
    expect(thrown(() => d.push(bytes('000000029107 00000000'))).code).toBe('BAD_FRAME');
  });
});
