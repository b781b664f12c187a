/**
 * Token-mode gateways for tests: a fresh HS256 key file in a temporary directory (removed in teardown), tokens
 * minted with it on a given clock, and the `gateway.auth` section that uses it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthConfig } from '../../config/auth.js';
import { readSecretFile, signToken, writeNewSecretFile, type TokenClaims } from '../../gateway/auth/tokens.js';

export interface TestKeys {
  readonly keyFile: string;
  /** `gateway.auth` for token mode with this key; `anonymousApps` empty unless given. */
  auth(o?: Partial<AuthConfig>): AuthConfig;
  token(claims: Partial<TokenClaims> & { sub: string }, now?: number): Promise<string>;
  dispose(): Promise<void>;
}

export async function testKeys(): Promise<TestKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'gh-auth-'));
  const keyFile = join(dir, 'hs256.key');
  await writeNewSecretFile(keyFile);
  const secret = await readSecretFile(keyFile);
  return {
    keyFile,
    auth: (o = {}) => ({ mode: 'token', secretFile: keyFile, clockToleranceSec: 0, anonymousApps: [], allowNoneOnPublicHost: false, ...o }),
    token: (claims, now = Date.now()) => signToken(secret, { ttlSec: 3600, ...claims }, now),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
