/**
 * The gateway's start-up checks and error boundary: the route table (no route defined twice, Pomelo falls back to
 * native names, nothing reachable through a prototype), what clients learn about failures, and the app loader.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCode, GatehouseError } from '../../common/errors.js';
import { loadConfig } from '../../config/load.js';
import type { RouteHandler } from '../../node-api/gateway-app.js';
import { toClientError } from '../../gateway/errors.js';
import { buildRouteTable } from '../../gateway/routes.js';
import { loadApps } from '../../server/apps.js';

const h: RouteHandler = async () => null;

describe('route table', () => {
  it('refuses a route two apps define, naming both', () => {
    const a = { name: 'a', kinds: [], gateway: { routes: { 'x.y': h } } };
    const b = { name: 'b', kinds: [], gateway: { routes: { 'x.y': h } } };
    expect(() => buildRouteTable([a, b])).toThrow(/"x\.y" is defined by both a and b/);
  });

  it('serves Pomelo routes first, native names as a fallback, builtins only when no app has them', () => {
    const p: RouteHandler = async () => 'pomelo';
    const app = { name: 'a', kinds: [], gateway: { routes: { echo: h }, pomelo: { routes: { 'a.b.c': p }, dictionary: ['a.b.c', 'onX'] } } };
    const builtin: RouteHandler = async () => 'builtin';
    const t = buildRouteTable([app], { pomelo: { 'a.b.c': builtin, 'gate.x': builtin } });
    expect(t.pomelo('a.b.c')).toBe(p);
    expect(t.pomelo('gate.x')).toBe(builtin);
    expect(t.pomelo('echo')).toBe(h);
    expect(t.native('a.b.c')).toBeUndefined();
    expect(t.dictionary?.code('onX')).toBe(2);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(t.native(name)).toBeUndefined();
  });
});

describe('errors clients see', () => {
  it('translates runtime codes, passes app codes, hides everything else', () => {
    expect(toClientError(new GatehouseError(ErrorCode.NoResponders, 'no responders on chat-room.3.x'))).toMatchObject({ code: 'UNAVAILABLE' });
    expect(toClientError(new GatehouseError(ErrorCode.BadMessage, 'name too long'))).toEqual({ code: 'BAD_REQUEST', message: 'name too long' });
    expect(toClientError(new GatehouseError('ROOM_FULL', 'room is full'))).toEqual({ code: 'ROOM_FULL', message: 'room is full' });
    for (const err of [new TypeError('x is undefined at /srv/app.js:12'), new GatehouseError(ErrorCode.ActorFailed, 'counter/a failed: boom'), 'a string', null]) {
      expect(toClientError(err)).toEqual({ code: 'INTERNAL', message: 'internal server error' });
    }
    expect(toClientError(new GatehouseError('not a code', 'x')).code).toBe('INTERNAL');
  });
});

describe('app loader (node.apps, --app)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-apps-'));
  const mod = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('adds the apps a module exports to the built-in ones', async () => {
    const p = mod('ok.mjs', "export const apps = [{ name: 'extra1', kinds: [] }, { name: 'extra2', kinds: [] }];");
    const apps = await loadApps(loadConfig({ flags: { app: [p] } }));
    const names = apps.map((a) => a.name);
    expect(names[0]).toBe('gateway');
    expect(names.slice(-2)).toEqual(['extra1', 'extra2']);
  });

  it('names the module and the field when a module is missing, malformed or repeats an app', async () => {
    const cases = [join(dir, 'missing.mjs'), mod('bad.mjs', 'export const app = 42;'), mod('dup.mjs', "export const app = { name: 'demo', kinds: [] };")];
    for (const p of cases) {
      const err = await loadApps(loadConfig({ flags: { app: [p] } })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).fields).toEqual(['node.apps']);
      expect((err as Error).message).toContain(p);
    }
  });
});
