/**
 * The Pomelo codec's edges that mutation testing found unchecked (protocol/pomelo/handshake.ts, route-dict.ts,
 * message.ts, frames.ts): bounds at their exact values, each refusal's error code, and the fields stock clients read.
 */
import { describe, expect, it } from 'vitest';
import {
  announcedDict,
  checkHeartbeatSeconds,
  createRouteDict,
  decodePackages,
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
