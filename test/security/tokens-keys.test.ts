/**
 * Token mode with public keys: a PEM public key file (ES256, EdDSA) and a JSON Web Key Set file whose `kid` picks
 * the key. Attacks: a token signed by another key, one naming a key the set does not hold, the algorithm-confusion
 * token (HS256 keyed with the public key's own PEM text), a token before its `nbf`, one from the wrong issuer or
 * audience. Each is refused UNAUTHORIZED; bad key files fail at start with a Config error naming the field.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, type Algorithm } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import type { AuthConfig } from '../../config/auth.js';
import { createTokenVerifier } from '../../gateway/auth/tokens.js';

const NOW = 1_700_000_000_000;
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
const base: AuthConfig = { mode: 'token', clockToleranceSec: 0, anonymousApps: [], allowNoneOnPublicHost: false };

function sign(key: KeyObject | string, algorithm: Algorithm, claims: Record<string, unknown>, extra: { kid?: string; expiresInMs?: number } = {}): string {
  const k = typeof key === 'string' ? key : key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return createSigner({ key: k, algorithm, clockTimestamp: NOW, expiresIn: extra.expiresInMs ?? 3_600_000, ...(extra.kid && { kid: extra.kid }) })(claims);
}

describe('token mode with public keys (security)', () => {
  let dir: string;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-keys-'));
    await writeFile(join(dir, 'ec.pem'), pem(ec.publicKey));
    await writeFile(join(dir, 'ed.pem'), pem(ed.publicKey));
    const jwk = (k: KeyObject, kid: string, alg: string) => ({ ...k.export({ format: 'jwk' }), kid, alg });
    await writeFile(join(dir, 'set.json'), JSON.stringify({ keys: [jwk(ec.publicKey, 'k1', 'ES256'), jwk(ed.publicKey, 'k2', 'EdDSA')] }));
    await writeFile(join(dir, 'one.json'), JSON.stringify({ keys: [jwk(ec.publicKey, 'only', 'ES256')] }));
    await writeFile(join(dir, 'bad.json'), '{"keys": [{"kty": "EC", "kid": "x", "alg": "ES256"}]}');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a PEM public key verifies its own tokens only, with the configured algorithm', async () => {
    const clock = new ManualClock(NOW);
    const verifyEc = await createTokenVerifier({ ...base, publicKeyFile: join(dir, 'ec.pem'), algorithm: 'ES256' }, clock);
    await expect(verifyEc(sign(ec.privateKey, 'ES256', { sub: 'alice', capcomIds: ['ALICE1'] }))).resolves.toEqual({ account: 'alice', capcomIds: ['ALICE1'] });
    await expect(verifyEc(sign(stranger.privateKey, 'ES256', { sub: 'alice' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // Algorithm confusion: HS256 keyed with the public key's PEM text, which anyone can read.
    await expect(verifyEc(sign(pem(ec.publicKey), 'HS256', { sub: 'alice' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const verifyEd = await createTokenVerifier({ ...base, publicKeyFile: join(dir, 'ed.pem'), algorithm: 'EdDSA' }, clock);
    await expect(verifyEd(sign(ed.privateKey, 'EdDSA', { sub: 'bob' }))).resolves.toEqual({ account: 'bob' });
    clock.advance(3_600_000);
    await expect(verifyEd(sign(ed.privateKey, 'EdDSA', { sub: 'bob' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('EXPIRED') });
  });

  it('a key set picks the key by kid; an unknown kid or a missing one among several is refused', async () => {
    const clock = new ManualClock(NOW);
    const verify = await createTokenVerifier({ ...base, jwksFile: join(dir, 'set.json') }, clock);
    await expect(verify(sign(ec.privateKey, 'ES256', { sub: 'a' }, { kid: 'k1' }))).resolves.toEqual({ account: 'a' });
    await expect(verify(sign(ed.privateKey, 'EdDSA', { sub: 'b' }, { kid: 'k2' }))).resolves.toEqual({ account: 'b' });
    // The right key's id on the other key's signature, a key the set lacks, and no kid with two keys in the set.
    await expect(verify(sign(ed.privateKey, 'EdDSA', { sub: 'b' }, { kid: 'k1' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(verify(sign(stranger.privateKey, 'ES256', { sub: 'c' }, { kid: 'k3' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('no key with its kid') });
    await expect(verify(sign(ec.privateKey, 'ES256', { sub: 'c' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('names no key') });
    await expect(verify('not.a.token')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const single = await createTokenVerifier({ ...base, jwksFile: join(dir, 'one.json') }, clock);
    await expect(single(sign(ec.privateKey, 'ES256', { sub: 'd' }))).resolves.toEqual({ account: 'd' });
  });

  it('checks nbf on the injected clock, and the issuer and audience when configured', async () => {
    const clock = new ManualClock(NOW);
    const cfg = { ...base, publicKeyFile: join(dir, 'ec.pem'), algorithm: 'ES256', issuer: 'https://id.example', audience: 'gatehouse' };
    const verify = await createTokenVerifier(cfg, clock);
    const good = { sub: 'a', iss: 'https://id.example', aud: 'gatehouse' };
    await expect(verify(sign(ec.privateKey, 'ES256', good))).resolves.toEqual({ account: 'a' });
    await expect(verify(sign(ec.privateKey, 'ES256', { ...good, iss: 'https://evil.example' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(verify(sign(ec.privateKey, 'ES256', { ...good, aud: 'other' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const later = sign(ec.privateKey, 'ES256', { ...good, nbf: NOW / 1000 + 60 });
    await expect(verify(later)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('NOT_YET_VALID') });
    clock.advance(61_000);
    await expect(verify(later)).resolves.toEqual({ account: 'a' });
  });

  it('bad key files fail at start naming the field', async () => {
    const clock = new ManualClock(NOW);
    await expect(createTokenVerifier({ ...base, publicKeyFile: join(dir, 'ec.pem') }, clock)).rejects.toThrow(/gateway.auth.algorithm/);
    await expect(createTokenVerifier({ ...base, publicKeyFile: join(dir, 'set.json'), algorithm: 'ES256' }, clock)).rejects.toThrow(/gateway.auth.publicKeyFile/);
    await expect(createTokenVerifier({ ...base, jwksFile: join(dir, 'bad.json') }, clock)).rejects.toThrow(/gateway.auth.jwksFile: keys\[0\]/);
    await expect(createTokenVerifier({ ...base, jwksFile: join(dir, 'ec.pem') }, clock)).rejects.toThrow(/not a JSON Web Key Set/);
    await expect(createTokenVerifier({ ...base, jwksFile: join(dir, 'missing.json') }, clock)).rejects.toThrow(/cannot read/);
  });
});
