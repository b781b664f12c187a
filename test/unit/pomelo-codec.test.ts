import { describe, expect, it } from 'vitest';
import {
  createPackageStreamDecoder,
  createRouteDict,
  decodeJsonBody,
  decodeMessage,
  decodePackages,
  encodeHandshakeOk,
  encodeJsonBody,
  encodeKick,
  encodeMessage,
  encodePackage,
  encodePackages,
  encodeHandshakeError,
  parseHandshakeRequest,
  parseHandshakeResponse,
  parseKick,
  PomeloProtocolError,
  writeHeader,
  type PomeloMessage,
} from '../../protocol/pomelo/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): string => hex(Buffer.from(s));
const empty = new Uint8Array(0);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PomeloProtocolError);
    expect((e as PomeloProtocolError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

describe('package layer', () => {
  it('encodes each package type as type byte + 24-bit big-endian length + body', () => {
    expect(hex(encodePackage('handshake', bytes('7b7d')))).toBe('01 00 00 02 7b 7d');
    expect(hex(encodePackage('handshake-ack'))).toBe('02 00 00 00');
    expect(hex(encodePackage('heartbeat'))).toBe('03 00 00 00');
    expect(hex(encodePackage('data', bytes('6162')))).toBe('04 00 00 02 61 62');
    expect(hex(encodeKick('bye'))).toBe(`05 00 00 10 ${ascii('{"reason":"bye"}')}`);
  });

  it('writes all three length bytes', () => {
    const p = encodePackage('data', new Uint8Array(0x01_02_03));
    expect(hex(p.subarray(0, 4))).toBe('04 01 02 03');
    const h = new Uint8Array(4);
    writeHeader(h, 0, 'data', 0xff_ffff);
    expect(hex(h)).toBe('04 ff ff ff');
    expectCode(() => writeHeader(h, 0, 'data', 0x100_0000), 'PACKAGE_TOO_LARGE');
  });

  it('decodes several packages from one buffer, bodies included', () => {
    const all = decodePackages(bytes('03000000 0400000161 02000000 0500000178'));
    expect(all.map((p) => [p.type, hex(p.body)])).toEqual([
      ['heartbeat', ''],
      ['data', '61'],
      ['handshake-ack', ''],
      ['kick', '78'],
    ]);
    expect(decodePackages(empty)).toEqual([]);
    expect(hex(encodePackages(all))).toBe('03 00 00 00 04 00 00 01 61 02 00 00 00 05 00 00 01 78');
  });

  it('refuses unknown types, truncation and oversized lengths', () => {
    expectCode(() => decodePackages(bytes('00000000')), 'BAD_PACKAGE');
    expectCode(() => decodePackages(bytes('06000000')), 'BAD_PACKAGE');
    expectCode(() => decodePackages(bytes('030000')), 'BAD_PACKAGE');
    expectCode(() => decodePackages(bytes('04000002 61')), 'BAD_PACKAGE');
    expectCode(() => decodePackages(bytes('04000065'), { maxBodyLength: 100 }), 'PACKAGE_TOO_LARGE');
    expect(decodePackages(bytes('04000064' + '00'.repeat(100)), { maxBodyLength: 100 })).toHaveLength(1);
  });
});

describe('message layer', () => {
  const body = bytes('7b7d');
  const cases: [string, PomeloMessage, string][] = [
    ['request, id 1', { type: 'request', id: 1, route: 'a', body }, '00 01 01 61 7b 7d'],
    ['request, id 0', { type: 'request', id: 0, route: 'a', body: empty }, '00 00 01 61'],
    ['notify', { type: 'notify', route: 'chat.chatHandler.send', body: empty }, `02 15 ${ascii('chat.chatHandler.send')}`],
    ['notify, empty route', { type: 'notify', route: '', body }, '02 00 7b 7d'],
    ['response, id 300', { type: 'response', id: 300, body }, '04 ac 02 7b 7d'],
    ['response, empty body', { type: 'response', id: 5, body: empty }, '04 05'],
    ['push', { type: 'push', route: 'onChat', body }, `06 06 ${ascii('onChat')} 7b 7d`],
    ['UTF-8 route', { type: 'push', route: '聊天', body: empty }, '06 06 e8 81 8a e5 a4 a9'],
    ['4-byte UTF-8 route', { type: 'notify', route: 'é😀', body: empty }, '02 06 c3 a9 f0 9f 98 80'],
  ];
  it.each(cases)('%s', (_name, message, wire) => {
    expect(hex(encodeMessage(message))).toBe(wire);
    expect(decodeMessage(bytes(wire))).toEqual({ ...message, routeCompressed: false });
  });

  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '80 01'],
    [16_383, 'ff 7f'],
    [16_384, '80 80 01'],
    [2_097_151, 'ff ff 7f'],
    [2_097_152, '80 80 80 01'],
    [268_435_455, 'ff ff ff 7f'],
    [268_435_456, '80 80 80 80 01'],
    [0xffff_ffff, 'ff ff ff ff 0f'],
  ])('varint id %i is %s', (id, varint) => {
    const wire = `00 ${varint} 01 61`;
    expect(hex(encodeMessage({ type: 'request', id, route: 'a', body: empty }))).toBe(wire);
    expect(decodeMessage(bytes(wire))).toMatchObject({ type: 'request', id });
    expect(hex(encodeMessage({ type: 'response', id, body: empty }))).toBe(`04 ${varint}`);
  });

  it('compresses routes found in the dictionary to 2-byte big-endian codes', () => {
    const routes = Array.from({ length: 258 }, (_, i) => `r${i + 1}`);
    const dict = createRouteDict(routes);
    expect(hex(encodeMessage({ type: 'request', id: 2, route: 'r1', body }, { dict }))).toBe('01 02 00 01 7b 7d');
    expect(hex(encodeMessage({ type: 'notify', route: 'r3', body: empty }, { dict }))).toBe('03 00 03');
    expect(hex(encodeMessage({ type: 'push', route: 'r258', body }, { dict }))).toBe('07 01 02 7b 7d');
    expect(decodeMessage(bytes('07 01 02 7b 7d'), dict)).toEqual({ type: 'push', route: 'r258', body, routeCompressed: true });
    // A route outside the dictionary still travels as a string.
    expect(hex(encodeMessage({ type: 'push', route: 'x', body: empty }, { dict }))).toBe('06 01 78');
    expectCode(() => decodeMessage(bytes('03 01 03'), dict), 'UNKNOWN_ROUTE_CODE');
    expectCode(() => decodeMessage(bytes('03 00 00'), dict), 'UNKNOWN_ROUTE_CODE');
    expectCode(() => decodeMessage(bytes('03 00 01')), 'UNKNOWN_ROUTE_CODE');
  });

  it('ignores a compress bit on responses, which carry no route', () => {
    expect(decodeMessage(bytes('05 01 7b 7d'))).toEqual({ type: 'response', id: 1, body, routeCompressed: false });
  });

  it.each([
    ['empty', ''],
    ['gzip bit', '12 00'],
    ['reserved bit', '22 00'],
    ['type 4', '08 00'],
    ['type 7', '0e 00'],
    ['id cut off', '00 80'],
    ['id missing', '04'],
    ['6-byte varint', '04 80 80 80 80 80 01'],
    ['id over uint32', '04 ff ff ff ff 1f'],
    ['route length missing', '02'],
    ['route past the end', '02 05 61'],
    ['route code cut off', '03 00'],
  ])('refuses %s', (_name, wire) => {
    expectCode(() => decodeMessage(bytes(wire)), 'BAD_MESSAGE');
  });

  it('refuses routes that are not UTF-8 or too long, and ids that are not uint32', () => {
    expectCode(() => decodeMessage(bytes('02 01 ff')), 'BAD_ROUTE');
    expectCode(() => encodeMessage({ type: 'push', route: 'x'.repeat(256), body: empty }), 'BAD_ROUTE');
    expect(encodeMessage({ type: 'push', route: 'é'.repeat(127), body: empty })).toHaveLength(256);
    // A lone surrogate cannot be UTF-8; like TextEncoder, it goes out as U+FFFD.
    expect(hex(encodeMessage({ type: 'notify', route: '\ud800', body: empty }))).toBe('02 03 ef bf bd');
    for (const id of [-1, 1.5, 2 ** 32]) {
      expectCode(() => encodeMessage({ type: 'response', id, body: empty }), 'BAD_MESSAGE');
    }
  });
});

describe('JSON bodies', () => {
  it('escapes characters outside the BMP so no 4-byte UTF-8 reaches browser clients', () => {
    expect(hex(encodeJsonBody({ t: '😀é' }))).toBe(`${ascii('{"t":"\\ud83d\\ude00')} c3 a9 ${ascii('"}')}`);
    expect(decodeJsonBody(encodeJsonBody({ t: '😀é' }))).toEqual({ t: '😀é' });
  });

  it('reads both real UTF-8 and the CESU-8 that the browser pomelo-protocol writes for emoji', () => {
    expect(decodeJsonBody(bytes(`22 f0 9f 98 80 22`))).toBe('😀');
    expect(decodeJsonBody(bytes(`22 ed a0 bd ed b8 80 22`))).toBe('😀');
    expect(decodeJsonBody(empty)).toBeUndefined();
  });

  it('refuses malformed bodies with BAD_BODY', () => {
    for (const wire of ['7b', '22 ff 22', '22 c0 80 22', '22 e0 80 80 22', '22 f5 80 80 80 22', '22 e8 81 22']) {
      expectCode(() => decodeJsonBody(bytes(wire)), 'BAD_BODY');
    }
    expectCode(() => encodeJsonBody(10n), 'BAD_BODY');
    expectCode(() => encodeJsonBody(undefined), 'BAD_BODY');
  });
});

describe('route dictionary', () => {
  it('numbers routes from 1 in order, both ways, ignoring repeats', () => {
    const dict = createRouteDict(['chat.chatHandler.send', 'onChat', 'onChat', '__proto__']);
    expect(dict.size).toBe(3);
    expect([dict.code('chat.chatHandler.send'), dict.code('onChat'), dict.code('__proto__')]).toEqual([1, 2, 3]);
    expect([dict.route(0), dict.route(1), dict.route(3), dict.route(4)]).toEqual([undefined, 'chat.chatHandler.send', '__proto__', undefined]);
    expect(JSON.stringify(dict.routeToCode())).toBe('{"chat.chatHandler.send":1,"onChat":2,"__proto__":3}');
    expect(dict.codeToRoute()).toEqual({ 1: 'chat.chatHandler.send', 2: 'onChat', 3: '__proto__' });
    expect(Object.getPrototypeOf(dict.routeToCode())).toBe(Object.prototype);
  });

  it('has a version that follows the mapping', () => {
    expect(createRouteDict(['a', 'b']).version).toBe(createRouteDict(['a', 'b']).version);
    expect(createRouteDict(['a', 'b']).version).not.toBe(createRouteDict(['b', 'a']).version);
  });

  it('refuses routes that could not travel uncompressed', () => {
    expectCode(() => createRouteDict(['']), 'BAD_ROUTE');
    expectCode(() => createRouteDict(['x'.repeat(256)]), 'BAD_ROUTE');
  });
});

describe('handshake and kick bodies', () => {
  it('reads what the stock JS client sends, with or without `user`', () => {
    const body = Buffer.from('{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{},"protoVersion":0}}');
    expect(parseHandshakeRequest(body)).toEqual({
      sys: { type: 'js-websocket', version: '0.0.1', rsa: {}, protoVersion: 0 },
      user: {},
    });
    expect(parseHandshakeRequest(Buffer.from('{"sys":{},"user":{"uid":7}}')).user).toEqual({ uid: 7 });
  });

  it.each(['', 'nope', '[]', '{}', '{"sys":1}', '{"sys":{"type":3}}', '{"sys":{},"user":[]}', '{"sys":{"version":{}}}'])(
    'refuses handshake %j',
    (text) => expectCode(() => parseHandshakeRequest(Buffer.from(text)), 'BAD_HANDSHAKE'),
  );

  it('announces heartbeat seconds and the dictionary under every name clients read', () => {
    const dict = createRouteDict(['chat.chatHandler.send', 'onChat']);
    const pkg = decodePackages(encodeHandshakeOk({ heartbeatSeconds: 3, dict }))[0]!;
    expect(pkg.type).toBe('handshake');
    expect(JSON.parse(Buffer.from(pkg.body).toString())).toEqual({
      code: 200,
      sys: {
        heartbeat: 3,
        useDict: true,
        dict: { 'chat.chatHandler.send': 1, onChat: 2 },
        routeToCode: { 'chat.chatHandler.send': 1, onChat: 2 },
        codeToRoute: { 1: 'chat.chatHandler.send', 2: 'onChat' },
        dictVersion: dict.version,
      },
      user: {},
    });
    const bare = decodePackages(encodeHandshakeOk({ heartbeatSeconds: 10, user: { a: 1 } }))[0]!;
    expect(Buffer.from(bare.body).toString()).toBe('{"code":200,"sys":{"heartbeat":10},"user":{"a":1}}');
    expect(() => encodeHandshakeOk({ heartbeatSeconds: 2.5 })).toThrow(RangeError);
  });

  it('reads handshake responses on the client side', () => {
    const dict = createRouteDict(['onChat']);
    const ok = parseHandshakeResponse(decodePackages(encodeHandshakeOk({ heartbeatSeconds: 3, dict }))[0]!.body);
    expect(ok).toMatchObject({ code: 200, sys: { heartbeat: 3, dict: { onChat: 1 } }, user: {} });
    expect(parseHandshakeResponse(decodePackages(encodeHandshakeError(501))[0]!.body)).toEqual({ code: 501 });
    expect(parseHandshakeResponse(Buffer.from('{"code":200,"sys":{}}'))).toEqual({ code: 200, sys: { heartbeat: 0 }, user: {} });
    for (const text of ['{}', '{"code":404}', '{"code":200,"sys":{"heartbeat":"3"}}', 'x']) {
      expectCode(() => parseHandshakeResponse(Buffer.from(text)), 'BAD_HANDSHAKE');
    }
  });

  it('reads kick bodies', () => {
    expect(parseKick(decodePackages(encodeKick('duplicate login'))[0]!.body)).toEqual({ reason: 'duplicate login' });
    expectCode(() => parseKick(Buffer.from('{}')), 'BAD_BODY');
  });
});

describe('stream decoder', () => {
  const wire = bytes('01000002 7b7d 02000000 03000000 04000003 616263 05000001 78');

  it('yields the same packages however the stream is cut', () => {
    const whole = decodePackages(wire);
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = createPackageStreamDecoder();
      const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(got).toEqual(whole);
      expect(d.idle).toBe(true);
    }
    const d = createPackageStreamDecoder();
    const got = [...wire].flatMap((b) => d.push(Uint8Array.of(b)));
    expect(got).toEqual(whole);
  });

  it('counts what it holds of an unfinished package', () => {
    const d = createPackageStreamDecoder();
    expect(d.push(bytes('0400'))).toEqual([]);
    expect([d.buffered, d.idle]).toEqual([2, false]);
    expect(d.push(bytes('0003 61'))).toEqual([]);
    expect(d.buffered).toBe(5);
    expect(d.push(bytes('6263 03'))).toEqual([{ type: 'data', body: bytes('616263') }]);
    expect(d.buffered).toBe(1);
  });

  it('refuses an oversized length from the header alone, before any body arrives, and stays failed', () => {
    const d = createPackageStreamDecoder({ maxBodyLength: 1024 });
    expectCode(() => d.push(bytes('04 00 04 01')), 'PACKAGE_TOO_LARGE');
    expectCode(() => d.push(bytes('03 00 00 00')), 'PACKAGE_TOO_LARGE');
    const split = createPackageStreamDecoder({ maxBodyLength: 1024 });
    expect(split.push(bytes('04 ff'))).toEqual([]);
    expect(split.push(bytes('ff'))).toEqual([]);
    expectCode(() => split.push(bytes('ff')), 'PACKAGE_TOO_LARGE');
    expect(split.buffered).toBe(0);
  });

  it('refuses a bad type byte as soon as it arrives', () => {
    expectCode(() => createPackageStreamDecoder().push(bytes('09')), 'BAD_PACKAGE');
  });
});
