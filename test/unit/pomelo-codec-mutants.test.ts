/**
 * The Pomelo codec's edges that mutation testing found unchecked (protocol/pomelo/handshake.ts, route-dict.ts,
 * message.ts, frames.ts): bounds at their exact values, each refusal's error code, and the fields stock clients read.
 */
import { describe, expect, it } from 'vitest';
import {
  announcedDict,
  checkHeartbeatSeconds,
  createRouteDict,
  decodeJsonBody,
  decodeMessage,
  decodePackages,
  decodeUtf8,
  encodeHandshakeAck,
  encodeHandshakeRequest,
  encodeMessage,
  encodeHandshakeError,
  encodeHandshakeOk,
  encodeJsonBody,
  encodeKick,
  handshakeOk,
  MAX_ROUTE_BYTES,
  parseHandshakeRequest,
  parseHandshakeResponse,
  parseKick,
  PomeloErrorCode,
  type RouteDict,
  writeHeader,
} from '../../protocol/pomelo/index.js';

const json = (v: unknown) => encodeJsonBody(v);
const raw = (s: string) => new TextEncoder().encode(s);
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return undefined;
};

describe('pomelo handshake', () => {
  it('reads a request: sys required, type/version strings when present, user an object defaulting to {}', () => {
    expect(parseHandshakeRequest(json({ sys: { type: 'js-websocket', version: '0.0.1', rsa: {} } }))).toEqual({
      sys: { type: 'js-websocket', version: '0.0.1', rsa: {} },
      user: {},
    });
    expect(parseHandshakeRequest(json({ sys: {}, user: { a: 1 } }))).toEqual({ sys: {}, user: { a: 1 } });
    for (const bad of [null, [], 'x', { sys: null }, { sys: [] }, { sys: 'x' }, {}, { sys: { type: 1 } }, { sys: { version: {} } }, { sys: {}, user: [] }, { sys: {}, user: 'u' }, { sys: {}, user: null }]) {
      expect(codeOf(() => parseHandshakeRequest(json(bad))), JSON.stringify(bad)).toBe(PomeloErrorCode.BadHandshake);
    }
    expect(codeOf(() => parseHandshakeRequest(raw('{')))).toBe(PomeloErrorCode.BadHandshake);
    expect(() => parseHandshakeRequest(raw('{'))).toThrow('handshake is not UTF-8 JSON');
    expect(() => parseHandshakeRequest(json({ sys: { type: 1 } }))).toThrow('handshake sys.type must be a string');
    expect(() => parseHandshakeRequest(json({ sys: { version: 1 } }))).toThrow('handshake sys.version must be a string');
  });

  it('accepts heartbeats of whole seconds from 1 to 3600 only', () => {
    for (const ok of [1, 30, 3600]) expect(() => checkHeartbeatSeconds(ok)).not.toThrow();
    for (const bad of [0, -1, 3601, 1.5, Number.NaN]) expect(() => checkHeartbeatSeconds(bad), String(bad)).toThrow(RangeError);
  });

  it('announces a non-empty dictionary with every field libpomelo2 needs, and none for an empty one', () => {
    const dict = createRouteDict(['chat.send', 'onChat']);
    const ok = handshakeOk({ heartbeatSeconds: 25, dict, user: { u: 1 } });
    expect(ok).toEqual({
      code: 200,
      sys: {
        heartbeat: 25,
        useDict: true,
        dict: { 'chat.send': 1, onChat: 2 },
        routeToCode: { 'chat.send': 1, onChat: 2 },
        codeToRoute: { '1': 'chat.send', '2': 'onChat' },
        dictVersion: dict.version,
      },
      user: { u: 1 },
    });
    expect(handshakeOk({ heartbeatSeconds: 1, dict: createRouteDict([]) })).toEqual({ code: 200, sys: { heartbeat: 1 }, user: {} });
    expect(announcedDict(createRouteDict([]))).toBeUndefined();
    expect(announcedDict(undefined)).toBeUndefined();
    expect(announcedDict(dict)).toBe(dict);
    expect(() => handshakeOk({ heartbeatSeconds: 0 })).toThrow(RangeError);
    const [pkg] = decodePackages(encodeHandshakeOk({ heartbeatSeconds: 3 }));
    expect(pkg!.type).toBe('handshake');
    expect(parseHandshakeResponse(pkg!.body)).toEqual({ code: 200, sys: { heartbeat: 3 }, user: {} });
  });

  it('reads responses: 200 with a heartbeat (absent: 0), 500 and 501 as they are, anything else refused', () => {
    expect(parseHandshakeResponse(json({ code: 200 }))).toEqual({ code: 200, sys: { heartbeat: 0 }, user: {} });
    expect(parseHandshakeResponse(json({ code: 200, sys: { heartbeat: 0, x: 1 }, user: { a: 2 } }))).toEqual({
      code: 200,
      sys: { heartbeat: 0, x: 1 },
      user: { a: 2 },
    });
    expect(parseHandshakeResponse(json({ code: 200, sys: [], user: [] }))).toEqual({ code: 200, sys: { heartbeat: 0 }, user: {} });
    expect(parseHandshakeResponse(json({ code: 200, sys: { heartbeat: null } }))).toEqual({ code: 200, sys: { heartbeat: 0 }, user: {} }); // null: absent
    for (const code of [500, 501] as const) {
      const [pkg] = decodePackages(encodeHandshakeError(code));
      expect(parseHandshakeResponse(pkg!.body)).toEqual({ code });
    }
    for (const bad of [{ code: 200, sys: { heartbeat: -1 } }, { code: 200, sys: { heartbeat: '3' } }, { code: 404 }, { code: '200' }, [], null]) {
      expect(codeOf(() => parseHandshakeResponse(json(bad))), JSON.stringify(bad)).toBe(PomeloErrorCode.BadHandshake);
    }
    expect(() => parseHandshakeResponse(json({ code: 404 }))).toThrow('unknown handshake response code 404');
    expect(() => parseHandshakeResponse(raw('x'))).toThrow('handshake response is not UTF-8 JSON');
  });

  it('kick: {reason} both ways; anything else is BAD_BODY', () => {
    const [pkg] = decodePackages(encodeKick('bye'));
    expect(pkg!.type).toBe('kick');
    expect(parseKick(pkg!.body)).toEqual({ reason: 'bye' });
    for (const bad of [{}, { reason: 1 }, [], null]) expect(codeOf(() => parseKick(json(bad)))).toBe(PomeloErrorCode.BadBody);
    expect(codeOf(() => parseKick(raw('{')))).toBe(PomeloErrorCode.BadBody);
  });
});

describe('pomelo route dictionary', () => {
  it('numbers routes from 1 in order, keeps the first code of a repeated route, and maps both ways', () => {
    const d = createRouteDict(['a', 'b', 'a', 'c']);
    expect(d.size).toBe(3);
    expect([d.code('a'), d.code('b'), d.code('c'), d.code('x')]).toEqual([1, 2, 3, undefined]);
    expect([d.route(0), d.route(1), d.route(3), d.route(4), d.route(-1)]).toEqual([undefined, 'a', 'c', undefined, undefined]);
    expect(d.codeToRoute()).toEqual({ '1': 'a', '2': 'b', '3': 'c' });
    // Copies: a caller changing one cannot change the dictionary.
    d.routeToCode().a = 9;
    expect(d.routeToCode().a).toBe(1);
    expect(createRouteDict(['__proto__']).routeToCode()).toEqual(JSON.parse('{"__proto__":1}'));
  });

  it('refuses a route of 0 or more than 255 UTF-8 bytes (255 is fine)', () => {
    expect(createRouteDict(['x'.repeat(MAX_ROUTE_BYTES)]).size).toBe(1);
    expect(codeOf(() => createRouteDict(['x'.repeat(MAX_ROUTE_BYTES + 1)]))).toBe(PomeloErrorCode.BadRoute);
    expect(codeOf(() => createRouteDict(['é'.repeat(128)]))).toBe(PomeloErrorCode.BadRoute); // 256 bytes, 128 chars
    expect(codeOf(() => createRouteDict(['']))).toBe(PomeloErrorCode.BadRoute);
    expect(() => createRouteDict([''])).toThrow('route "" must be 1 to 255 UTF-8 bytes');
  });

  it('holds 65535 routes and refuses the next', () => {
    const routes = Array.from({ length: 0xffff }, (_, i) => `r${i}`);
    const d = createRouteDict(routes);
    expect(d.size).toBe(0xffff);
    expect(d.route(0xffff)).toBe('r65534');
    expect(codeOf(() => createRouteDict([...routes, 'one-more']))).toBe(PomeloErrorCode.BadRoute);
    expect(() => createRouteDict([...routes, 'one-more'])).toThrow('more than 65535 routes');
  });

  it('versions the mapping: same routes same version, another order or set another one, 22 characters', () => {
    const v = createRouteDict(['a', 'b']).version;
    expect(v).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(createRouteDict(['a', 'b', 'a']).version).toBe(v);
    expect(createRouteDict(['b', 'a']).version).not.toBe(v);
    expect(createRouteDict(['a']).version).not.toBe(v);
  });
});

describe('pomelo messages and packages', () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  const cesuSmile = [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]; // U+1F600 as two 3-byte surrogates (browser pomelo-protocol)

  it('refuses malformed messages with BAD_MESSAGE and a message naming the fault', () => {
    const cases: Array<[Uint8Array, string]> = [
      [bytes(), 'empty message'],
      [bytes(0x10, 0, 1, 0x61), 'gzip-compressed bodies are not supported'],
      [bytes(0x20, 0, 1, 0x61), 'reserved flag bits set: 0x20'],
      [bytes(0x08, 0, 1, 0x61), 'unknown message type 4'],
      [bytes(0x00), 'message ends inside its id'],
      [bytes(0x00, 0x80), 'message ends inside its id'],
      [bytes(0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 'message id varint longer than 5 bytes'],
      [bytes(0x00, 0xff, 0xff, 0xff, 0xff, 0x1f), 'message id 8589934591 exceeds uint32'],
      [bytes(0x03, 0x01), 'message ends inside its route code'],
      [bytes(0x02), 'message ends before its route length'],
      [bytes(0x02, 3, 0x61), 'route of 3 bytes runs past the message'],
    ];
    for (const [b, message] of cases) {
      expect(() => decodeMessage(b), message).toThrow(message);
      expect(codeOf(() => decodeMessage(b))).toBe(PomeloErrorCode.BadMessage);
    }
    expect(() => decodeMessage(bytes(0x03, 0x00, 0x07))).toThrow('route code 7 is not in the dictionary');
    expect(codeOf(() => decodeMessage(bytes(0x03, 0x00, 0x07)))).toBe(PomeloErrorCode.UnknownRouteCode);
    try {
      decodeMessage(bytes());
    } catch (e) {
      expect((e as Error).name).toBe('PomeloProtocolError');
    }
  });

  it('decodes routes byte for byte: ASCII, UTF-8 (also from 0x80), and refuses invalid bytes as BAD_ROUTE', () => {
    const notify = (...route: number[]) => decodeMessage(bytes(0x02, route.length, ...route, 0x7b, 0x7d));
    expect(notify(0x61, 0x2e, 0x62)).toMatchObject({ type: 'notify', route: 'a.b', routeCompressed: false });
    expect(notify(0xc3, 0xa9)).toMatchObject({ route: 'é' });
    expect(notify(0xc2, 0x80)).toMatchObject({ route: '\u0080' });
    expect(codeOf(() => notify(0x61, 0x80))).toBe(PomeloErrorCode.BadRoute); // a lone continuation byte
    expect(codeOf(() => notify(0x61, 0xff))).toBe(PomeloErrorCode.BadRoute);
  });

  it('encodes a 255-byte route and refuses 256', () => {
    const body = new Uint8Array(0);
    const m = decodeMessage(encodeMessage({ type: 'push', route: 'r'.repeat(MAX_ROUTE_BYTES), body }));
    expect(m).toMatchObject({ type: 'push', route: 'r'.repeat(MAX_ROUTE_BYTES) });
    expect(codeOf(() => encodeMessage({ type: 'push', route: 'r'.repeat(MAX_ROUTE_BYTES + 1), body }))).toBe(PomeloErrorCode.BadRoute);
    expect(() => encodeMessage({ type: 'push', route: 'r'.repeat(256), body })).toThrow('route is 256 UTF-8 bytes, the 1-byte length field allows 255');
    expect(() => encodeMessage({ type: 'request', id: -1, route: 'r', body })).toThrow('message id must be a uint32, got -1');
  });

  it('JSON bodies: unserialisable values are BAD_BODY with their cause; astral characters travel as escapes', () => {
    let err: unknown;
    try {
      encodeJsonBody(10n);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: PomeloErrorCode.BadBody, message: 'body cannot be serialised as JSON' });
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
    expect(() => encodeJsonBody(undefined)).toThrow('body has no JSON form');
    expect(new TextDecoder().decode(encodeJsonBody({ s: 'a😀é' }))).toBe('{"s":"a\\ud83d\\ude00é"}');
    let bad: unknown;
    try {
      decodeJsonBody(raw('{"a":'));
    } catch (e) {
      bad = e;
    }
    expect(bad).toMatchObject({ code: PomeloErrorCode.BadBody, message: 'body is not valid JSON' });
    expect((bad as { cause?: unknown }).cause).toBeInstanceOf(SyntaxError);
    expect(decodeJsonBody(new Uint8Array(0))).toBeUndefined();
  });

  it('limits nesting by a byte scan that counts brackets outside strings only, closing ones included', () => {
    const depth = (s: string, max: number) => {
      try {
        (decodeJsonBody as (body: Uint8Array, maxDepth: number) => unknown)(raw(s), max); // its parameter is typed as the literal default
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(depth('[[1]]', 2)).toBe('ok');
    expect(depth('[[[1]]]', 2)).toBe('body nested deeper than 2 levels (byte 2)');
    expect(depth('{"a":{"b":{}}}', 2)).toBe('body nested deeper than 2 levels (byte 10)');
    expect(depth('[[],[],[],{},{}]', 2)).toBe('ok'); // siblings close their level
    expect(depth('[{},[],[[1]]]', 2)).toBe('body nested deeper than 2 levels (byte 8)');
    expect(depth('["[[[[", "{{{{"]', 1)).toBe('ok'); // brackets in strings
    expect(depth('["\\"[[[["]', 1)).toBe('ok'); // an escaped quote does not end the string
    expect(depth('["\\\\",[[1]]]', 2)).toBe('body nested deeper than 2 levels (byte 7)'); // an escaped backslash does
    expect(depth('["a",["b"]]', 2)).toBe('ok');
  });

  it('decodes CESU-8 (surrogates as 3-byte sequences) together with every valid UTF-8 length, at the range edges', () => {
    const text = (...b: number[]) => decodeUtf8(bytes(...cesuSmile, ...b));
    expect(text()).toBe('😀');
    expect(text(0x41, 0x7f)).toBe('😀A\u007f');
    expect(text(0xc2, 0x80, 0xdf, 0xbf)).toBe('😀\u0080\u07ff');
    expect(text(0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf, 0xe2, 0x82, 0xac)).toBe('😀\u0800\uffff€');
    expect(text(0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf, 0xf0, 0x9f, 0x98, 0x80)).toBe('😀\u{10000}\u{10ffff}😀');
    const refused: Array<[number[], number]> = [
      [[0xc1, 0xbf], 6], // overlong 2-byte lead
      [[0xc0, 0x80], 6],
      [[0x80], 6], // continuation without a lead
      [[0xe0, 0x9f, 0xbf], 6], // overlong 3-byte
      [[0xf0, 0x8f, 0xbf, 0xbf], 6], // overlong 4-byte
      [[0xf4, 0x90, 0x80, 0x80], 6], // past U+10FFFF
      [[0xf5, 0x80, 0x80, 0x80], 6],
      [[0xf8, 0x90, 0x80, 0x80], 6], // no lead above F4: as a 4-byte lead it would read as U+10000
      [[0xff], 6],
      [[0xe2, 0x82], 8], // truncated
      [[0xe2, 0x41, 0xac], 7], // not a continuation byte
      [[0xc3], 7],
      [[0xf0, 0x9f, 0x98], 9],
    ];
    for (const [b, at] of refused) {
      let e: unknown;
      try {
        text(...b);
      } catch (x) {
        e = x;
      }
      expect(e, b.map((x) => x.toString(16)).join(' ')).toMatchObject({ code: PomeloErrorCode.BadBody, message: `invalid UTF-8 at byte ${at}` });
    }
    expect(codeOf(() => decodeUtf8(bytes(0xff), PomeloErrorCode.BadRoute))).toBe(PomeloErrorCode.BadRoute);
    const long = decodeUtf8(bytes(...cesuSmile, ...new Array(20_000).fill(0x61)));
    expect(long).toBe('😀' + 'a'.repeat(20_000));
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe('\ufeffa'); // a BOM is content, not stripped
  });

  it('packages: header limits, truncation and unknown types, each with its code and figures', () => {
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code?: string }).code} ${(e as Error).message}`;
      }
      return 'ok';
    };
    expect(msg(() => decodePackages(bytes(9, 0, 0, 0)))).toBe('BAD_PACKAGE unknown package type 9');
    expect(msg(() => decodePackages(bytes(4, 0, 0, 2, 1, 2, 3)))).toBe('BAD_PACKAGE truncated package header: 1 of 4 bytes');
    expect(msg(() => decodePackages(bytes(4, 0, 0, 3, 1)))).toBe('BAD_PACKAGE truncated data package: 1 of 3 body bytes');
    expect(msg(() => decodePackages(bytes(4, 0, 0, 3, 1, 2, 3), { maxBodyLength: 2 }))).toBe('PACKAGE_TOO_LARGE data package declares 3 body bytes, limit is 2');
    expect(decodePackages(bytes(4, 0, 0, 2, 1, 2, 3, 0, 0, 0), { maxBodyLength: 2 }).map((p) => p.type)).toEqual(['data', 'heartbeat']);
    expect(decodePackages(bytes(3, 0, 0, 0), { maxBodyLength: 0 })).toEqual([{ type: 'heartbeat', body: new Uint8Array(0) }]);
    expect(() => decodePackages(bytes(), { maxBodyLength: -1 })).toThrow(RangeError);
    expect(() => decodePackages(bytes(), { maxBodyLength: 1.5 })).toThrow('maxBodyLength must be a non-negative integer, got 1.5');
    const out = new Uint8Array(8);
    expect(msg(() => writeHeader(out, 0, 'data', 0x100_0000))).toBe('PACKAGE_TOO_LARGE package body of 16777216 bytes exceeds the 24-bit length field');
    expect(msg(() => writeHeader(out, 0, 'data', -1))).toMatch(/^PACKAGE_TOO_LARGE/);
    expect(msg(() => writeHeader(out, 0, 'data', 0.5))).toMatch(/^PACKAGE_TOO_LARGE/);
    writeHeader(out, 4, 'data', 0xff_ffff);
    expect([...out.subarray(4)]).toEqual([4, 0xff, 0xff, 0xff]);
    expect([...encodeHandshakeAck()]).toEqual([2, 0, 0, 0]);
    const [req] = decodePackages(encodeHandshakeRequest({ sys: { type: 't' } }));
    expect(req!.type).toBe('handshake');
    expect(parseHandshakeRequest(req!.body)).toEqual({ sys: { type: 't' }, user: {} });
  });
});

/** Second round: the refusals' texts (our contract: clear errors naming the bad field or frame), causes kept. */
describe('pomelo codec errors name the bad field', () => {
  const thrown = (f: () => unknown): Error & { code?: string; cause?: unknown } => {
    try {
      f();
    } catch (e) {
      return e as Error & { code?: string; cause?: unknown };
    }
    throw new Error('nothing thrown');
  };

  it('handshake request, response and kick refusals: code and text', () => {
    const { BadHandshake, BadBody } = PomeloErrorCode;
    const cases: Array<[() => unknown, string, string]> = [
      [() => parseHandshakeRequest(json({ sys: null })), BadHandshake, 'handshake must be an object with a `sys` object'],
      [() => parseHandshakeRequest(json([])), BadHandshake, 'handshake must be an object with a `sys` object'],
      [() => parseHandshakeRequest(json({ sys: {}, user: [] })), BadHandshake, 'handshake `user` must be an object'],
      // A string code is refused as not numeric, not as an unknown code.
      [() => parseHandshakeResponse(json({ code: '200' })), BadHandshake, 'handshake response must have a numeric `code`'],
      [() => parseHandshakeResponse(json(null)), BadHandshake, 'handshake response must have a numeric `code`'],
      [() => parseHandshakeResponse(json({ code: 200, sys: { heartbeat: '3' } })), BadHandshake, 'handshake response sys.heartbeat must be a number'],
      [() => parseKick(raw('{')), BadBody, 'kick is not UTF-8 JSON'],
      [() => parseKick(json({ reason: 1 })), BadBody, 'kick body must be {reason: string}'],
    ];
    for (const [f, code, message] of cases) expect(thrown(f), message).toMatchObject({ code, message });
  });

  it('a handshake that is not UTF-8 JSON keeps the decoder error as its cause', () => {
    const notJson = thrown(() => parseHandshakeRequest(raw('{')));
    expect(notJson).toMatchObject({ code: PomeloErrorCode.BadHandshake, message: 'handshake is not UTF-8 JSON' });
    expect(notJson.cause).toMatchObject({ code: PomeloErrorCode.BadBody, message: 'body is not valid JSON' });
    const notUtf8 = thrown(() => parseHandshakeResponse(new Uint8Array([0x7b, 0xff, 0x7d])));
    expect(notUtf8.cause).toMatchObject({ code: PomeloErrorCode.BadBody, message: 'invalid UTF-8 at byte 1' });
  });

  it('a heartbeat out of range names the option and the value', () => {
    expect(() => checkHeartbeatSeconds(0)).toThrow('heartbeatSeconds must be an integer from 1 to 3600, got 0');
    expect(() => handshakeOk({ heartbeatSeconds: 1.5 })).toThrow('heartbeatSeconds must be an integer from 1 to 3600, got 1.5');
  });

  it('checks the length of a route only when it travels as text: a compressed one sends no length byte', () => {
    // The project's dictionaries hold routes of at most 255 bytes; RouteDict is an interface, so a route the
    // dictionary compresses must not be refused for a length field that is never written.
    const long = 'r'.repeat(MAX_ROUTE_BYTES + 1);
    const dict: RouteDict = {
      size: 1,
      version: 'v',
      code: (route) => (route === long ? 1 : undefined),
      route: (code) => (code === 1 ? long : undefined),
      routeToCode: () => ({ [long]: 1 }),
      codeToRoute: () => ({ '1': long }),
    };
    const out = encodeMessage({ type: 'notify', route: long, body: raw('{}') }, { dict });
    expect([...out]).toEqual([0x03, 0x00, 0x01, 0x7b, 0x7d]);
    expect(decodeMessage(out, dict)).toMatchObject({ type: 'notify', route: long, routeCompressed: true });
    expect(codeOf(() => encodeMessage({ type: 'notify', route: long, body: raw('{}') }))).toBe(PomeloErrorCode.BadRoute);
  });
});
