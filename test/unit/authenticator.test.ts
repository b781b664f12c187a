/**
 * The gateway's authenticator (gateway/auth/authenticator.ts) without sockets: `none` refused on a non-loopback host
 * unless forced (the error names the field), `hook` mode calling the one app's authenticate and hiding its errors,
 * anonymous admission per app, and the route guard.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import type { AuthConfig } from '../../config/auth.js';
import { createAuthenticator, isLoopback } from '../../gateway/auth/authenticator.js';
import type { App } from '../../node-api/app.js';
import type { RouteContext } from '../../node-api/gateway-app.js';

const base: AuthConfig = { mode: 'none', clockToleranceSec: 0, anonymousApps: [], allowNoneOnPublicHost: false };
const app = (name: string, extra: Partial<App> = {}): App => ({ name, kinds: [], gateway: { routes: {} }, ...extra });
const make = (auth: Partial<AuthConfig>, apps: App[] = [app('lobby')], host = '127.0.0.1') =>
  createAuthenticator({ auth: { ...base, ...auth }, host, apps, clock: new ManualClock(), log: silentLogger });
const info = { protocol: 'native' as const, node: 'n1' };

describe('gateway authenticator', () => {
  it('refuses mode none on a non-loopback host unless forced, naming the field', async () => {
    await expect(make({ mode: 'none' }, undefined, '0.0.0.0')).rejects.toThrow(/gateway\.auth\.mode/);
    const forced = await make({ mode: 'none', allowNoneOnPublicHost: true }, undefined, '0.0.0.0');
    expect(await forced.authenticate('alice', info)).toEqual({ account: 'alice', unverified: true });
    expect(await forced.authenticate(undefined, info)).toEqual({ account: 'anyone', unverified: true });
    expect([isLoopback('127.0.0.1'), isLoopback('::1'), isLoopback('localhost'), isLoopback('10.0.0.1')]).toEqual([true, true, true, false]);
  });

  it('hook mode: the app answers the principal; its errors reach the client as UNAUTHORIZED only', async () => {
    const hook = app('accounts', {
      authenticate: async (credential) => {
        if (credential !== 'open-sesame') throw new Error('db says: user 42 is banned');
        return { account: 'ali', capcomIds: ['ALI001'] };
      },
    });
    const a = await make({ mode: 'hook' }, [hook, app('lobby')]);
    expect(await a.authenticate('open-sesame', info)).toEqual({ account: 'ali', capcomIds: ['ALI001'] });
    await expect(a.authenticate('nope', info)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'credential refused' });
    await expect(a.authenticate(undefined, info)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(make({ mode: 'hook' }, [app('lobby')])).rejects.toThrow(/exactly one app with authenticate/);
  });

  it('token mode needs exactly one key source, named in the error', async () => {
    await expect(make({ mode: 'token' })).rejects.toThrow(/secretFile, publicKeyFile, jwksFile/);
  });

  it('admits anonymous clients only for the listed apps; the guard refuses the others and unlisted apps', async () => {
    const hook = app('accounts', { authenticate: async () => ({ account: 'x', apps: ['chat'] }) });
    const a = await make({ mode: 'hook', anonymousApps: ['chat'] }, [hook, app('chat'), app('lobby')]);
    expect(await a.authenticate(undefined, info)).toBeUndefined();
    const ok = async () => 'ran';
    const ctx = (principal?: RouteContext['principal']) => ({ principal }) as RouteContext;
    await expect(a.guard('chat', ok)(ctx(), null)).resolves.toBe('ran');
    await expect(a.guard('lobby', ok)(ctx(), null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(a.guard('lobby', ok)(ctx({ account: 'x', apps: ['chat'] }), null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(a.guard('lobby', ok)(ctx({ account: 'y' }), null)).resolves.toBe('ran');
  });
});
