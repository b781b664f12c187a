/**
 * Signed tokens (JWT, checked with `jose`): the verifier the gateway builds from `gateway.auth`, and what
 * `gatehouse token` uses to make development keys and tokens. The only file importing `jose`.
 *
 * A token's `sub` is the account; optional claims narrow what it may use: `capcomIds` (lobby hunters it owns) and
 * `apps` (apps whose routes it may call). `exp` is required and checked on the injected clock, so tests move time
 * instead of waiting. Every connection's token is verified (nothing is cached: a cache keyed by token would let a
 * revoked key's tokens live on); bench gateway compares the connect rate with and without a token per hello.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { randomBytes, webcrypto } from 'node:crypto';
import { createLocalJWKSet, importSPKI, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../common/clock.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { AuthConfig } from '../../config/auth.js';
import { ClientErrorCode } from '../../protocol/error-codes.js';
import type { Principal } from '../../node-api/auth.js';

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Longest token accepted before any parsing (a JWT with a few dozen Capcom IDs is well under 2 KiB). */
export const MAX_TOKEN_CHARS = 4096;
const ACCOUNT_MAX = 128;
const LIST_MAX = 64;

/** Why a token was refused: the client hears only UNAUTHORIZED and this message. */
export class TokenError extends GatehouseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ClientErrorCode.Unauthorized, message, options);
  }
}

/** HS256 key file: the secret as base64url text (at least 32 bytes once decoded). */
export async function readSecretFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new GatehouseError(ErrorCode.Config, `gateway.auth.secretFile: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const key = Buffer.from(text, 'base64url');
  if (key.length < 32 || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new GatehouseError(ErrorCode.Config, `gateway.auth.secretFile: ${path} must hold at least 32 bytes as base64url text (gatehouse token --new-key FILE writes one)`);
  }
  return new Uint8Array(key);
}

/** Writes a fresh 32-byte HS256 secret, readable by its owner only (0600). */
export async function writeNewSecretFile(path: string): Promise<void> {
  await writeFile(path, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

export interface TokenClaims {
  sub: string;
  capcomIds?: readonly string[];
  apps?: readonly string[];
  /** Lifetime in seconds. */
  ttlSec: number;
}

/** An HS256 token for development and tests (`gatehouse token`); `now` is the issuing time in ms. */
export async function signToken(secret: Uint8Array, claims: TokenClaims, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  const body: JWTPayload = {};
  if (claims.capcomIds) body.capcomIds = claims.capcomIds;
  if (claims.apps) body.apps = claims.apps;
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSec)
    .sign(secret);
}

/** Builds the verifier for `token` mode; throws a Config error naming the field when the keys are missing or bad. */
export async function createTokenVerifier(auth: AuthConfig, clock: Clock): Promise<TokenVerifier> {
  const given = (['secretFile', 'publicKeyFile', 'jwksFile'] as const).filter((k) => auth[k] !== undefined);
  if (given.length !== 1) {
    throw new GatehouseError(ErrorCode.Config, `gateway.auth: mode token needs exactly one of secretFile, publicKeyFile, jwksFile (got ${given.length === 0 ? 'none' : given.join(', ')})`);
  }
  let key: Uint8Array | CryptoKey | JWTVerifyGetKey;
  let algorithms: string[] | undefined;
  if (auth.secretFile) {
    // Imported once rather than handing jose the raw bytes, which it imports again on every verify. The key is the
    // server's own, not something a client sent. One verify measured 160-230 µs of CPU on this 2-core box under
    // load average 5-7 (3 000 HS256 tokens in a row).
    const raw = await readSecretFile(auth.secretFile);
    key = (await webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])) as CryptoKey;
    algorithms = ['HS256'];
  } else if (auth.publicKeyFile) {
    const alg = auth.algorithm;
    if (!alg) throw new GatehouseError(ErrorCode.Config, 'gateway.auth.algorithm: required with publicKeyFile (e.g. ES256, RS256, EdDSA)');
    const pem = await readText('gateway.auth.publicKeyFile', auth.publicKeyFile);
    try {
      key = await importSPKI(pem, alg);
    } catch (err) {
      throw new GatehouseError(ErrorCode.Config, `gateway.auth.publicKeyFile: not a PEM public key for ${alg}: ${(err as Error).message}`, { cause: err });
    }
    algorithms = [alg];
  } else {
    const text = await readText('gateway.auth.jwksFile', auth.jwksFile!);
    try {
      key = createLocalJWKSet(JSON.parse(text));
    } catch (err) {
      throw new GatehouseError(ErrorCode.Config, `gateway.auth.jwksFile: not a JSON Web Key Set: ${(err as Error).message}`, { cause: err });
    }
    algorithms = auth.algorithm ? [auth.algorithm] : undefined;
  }
  const options = {
    ...(algorithms && { algorithms }),
    ...(auth.issuer && { issuer: auth.issuer }),
    ...(auth.audience && { audience: auth.audience }),
    clockTolerance: auth.clockToleranceSec,
    requiredClaims: ['exp', 'sub'],
  };
  return async (token) => {
    if (token.length > MAX_TOKEN_CHARS) throw new TokenError(`token longer than ${MAX_TOKEN_CHARS} characters`);
    let payload: JWTPayload;
    try {
      // A function key and a static key go through the same call; jose picks the overload at run time.
      ({ payload } = await jwtVerify(token, key as unknown as Uint8Array, { ...options, currentDate: new Date(clock.now()) }));
    } catch (err) {
      throw new TokenError(`token refused: ${(err as { code?: string }).code ?? (err as Error).message}`, { cause: err });
    }
    return principalOf(payload);
  };
}

/** The principal a verified payload names; claims of the wrong shape refuse the token rather than being ignored. */
export function principalOf(p: JWTPayload): Principal {
  const sub = p.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > ACCOUNT_MAX) throw new TokenError(`token sub must be a string of 1..${ACCOUNT_MAX} characters`);
  const capcomIds = list(p, 'capcomIds');
  const apps = list(p, 'apps');
  return { account: sub, ...(capcomIds && { capcomIds }), ...(apps && { apps }) };
}

function list(p: JWTPayload, name: string): string[] | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > LIST_MAX || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 64)) {
    throw new TokenError(`token claim ${name} must be a list of at most ${LIST_MAX} strings`);
  }
  return v as string[];
}

async function readText(field: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new GatehouseError(ErrorCode.Config, `${field}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
