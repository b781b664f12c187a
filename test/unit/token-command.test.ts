/**
 * `gatehouse token` (bin/commands/token.ts): a new key file is 0600 and never overwritten; a minted token carries
 * sub, capcomIds and exp = now + ttl, and the gateway's verifier for that key file accepts it.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseTtl, runToken } from '../../bin/commands/token.js';
import { systemClock } from '../../common/clock.js';
import { createTokenVerifier } from '../../gateway/auth/tokens.js';

describe('gatehouse token', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes a 0600 key, refuses to overwrite it, and mints tokens the gateway accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-token-'));
    dirs.push(dir);
    const key = join(dir, 'dev.key');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await runToken(['--new-key', key]);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    await expect(runToken(['--new-key', key])).rejects.toMatchObject({ code: 'USAGE' });
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      await runToken(['--key', key, '--sub', 'alice', '--capcom-id', 'ALICE1', '--capcom-id', 'ALICE2', '--ttl', '15m']);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    const token = out.join('').trim();
    const verify = await createTokenVerifier({ mode: 'token', secretFile: key, clockToleranceSec: 0, anonymousApps: [], allowNoneOnPublicHost: false }, systemClock);
    expect(await verify(token)).toEqual({ account: 'alice', capcomIds: ['ALICE1', 'ALICE2'] });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.exp - payload.iat).toBe(900);
  });

  it('reads ttls like 90s, 15m, 1h, 7d and refuses others', () => {
    expect([parseTtl('90s'), parseTtl('15m'), parseTtl('1h'), parseTtl('7d')]).toEqual([90, 900, 3600, 604_800]);
    for (const bad of ['0s', '1y', '31d', 'h', '-1h']) expect(() => parseTtl(bad)).toThrow(/--ttl/);
  });
});
