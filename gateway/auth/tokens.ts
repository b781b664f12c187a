/**
 * Signed tokens (JWT, checked with `fast-jwt`): the verifier the gateway builds from `gateway.auth`, and what
 * `gatehouse token` uses to make development keys and tokens. The only file importing `fast-jwt`.
 *
 * A token's `sub` is the account; optional claims narrow what it may use: `capcomIds` (lobby hunters it owns) and
 * `apps` (apps whose routes it may call). `exp` is required and checked on the injected clock, so tests move time
 * instead of waiting. Every connection's token is verified (nothing is cached: a cache keyed by token would let a
 * revoked key's tokens live on); bench gateway compares the connect rate with and without a token per hello.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createPublicKey, randomBytes, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import { createDecoder, createSigner, createVerifier, type Algorithm } from 'fast-jwt';
import type { Clock } from '../../common/clock.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { AuthConfig } from '../../config/auth.js';
import { ClientErrorCode } from '../../protocol/error-codes.js';
import type { Principal } from '../../node-api/auth.js';

export type TokenVerifier = (token: string) => Promise<Principal>;
/** A verified token's claims (what fast-jwt returns; every field is checked before use). */
type JWTPayload = Record<string, unknown> & { sub?: unknown; exp?: unknown; nbf?: unknown; iat?: unknown };
/** One key's synchronous fast-jwt verifier: the payload, or a fast-jwt TokenError. */
type VerifierSync = (token: string) => unknown;

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
  const body: Record<string, unknown> = { sub: claims.sub };
  if (claims.capcomIds) body.capcomIds = claims.capcomIds;
  if (claims.apps) body.apps = claims.apps;
  // iat and exp from `now` (the signer's clock is set to it), not from Date.now().
  return createSigner({ key: Buffer.from(secret), algorithm: 'HS256', clockTimestamp: now, expiresIn: claims.ttlSec * 1000 })(body);
}

/**
 * Builds the verifier for `token` mode; throws a Config error naming the field when the keys are missing or bad.
 *
 * fast-jwt checks signatures with node:crypto, synchronously: 30 µs of CPU per HS256 token here, where jose's
 * WebCrypto path (an async job on libuv's pool per verify) took 154 µs and made authentication cost 16% of the
 * gateway's connect rate (bench gateway). Verifiers are built once per key (building one per call parses a PEM
 * key again: 2x the cost); `exp` and `nbf` are therefore checked here, on the injected clock, so tests move time.
 */
export async function createTokenVerifier(auth: AuthConfig, clock: Clock): Promise<TokenVerifier> {
  const given = (['secretFile', 'publicKeyFile', 'jwksFile'] as const).filter((k) => auth[k] !== undefined);
  if (given.length !== 1) {
    throw new GatehouseError(ErrorCode.Config, `gateway.auth: mode token needs exactly one of secretFile, publicKeyFile, jwksFile (got ${given.length === 0 ? 'none' : given.join(', ')})`);
  }
  const options = {
    ...(auth.issuer && { allowedIss: auth.issuer }),
    ...(auth.audience && { allowedAud: auth.audience }),
    requiredClaims: ['exp', 'sub'],
    // Checked below on the injected clock (a fast-jwt verifier reads one fixed timestamp or Date.now()).
    ignoreExpiration: true,
    ignoreNotBefore: true,
  };
  const verifierFor = (key: string | Buffer, alg: string, field: string): VerifierSync => {
    try {
      return createVerifier({ ...options, key, algorithms: [alg as Algorithm] });
    } catch (err) {
      throw new GatehouseError(ErrorCode.Config, `${field}: not a key for ${alg}: ${(err as Error).message}`, { cause: err });
    }
  };
  let pick: (token: string) => VerifierSync;
  if (auth.secretFile) {
    const one = verifierFor(Buffer.from(await readSecretFile(auth.secretFile)), 'HS256', 'gateway.auth.secretFile');
    pick = () => one;
  } else if (auth.publicKeyFile) {
    const alg = auth.algorithm;
    if (!alg || !PUBLIC_ALGS.has(alg)) {
      throw new GatehouseError(ErrorCode.Config, `gateway.auth.algorithm: required with publicKeyFile, one of ${[...PUBLIC_ALGS].join(', ')} (got ${alg ?? 'none'})`);
    }
    const one = verifierFor(await readText('gateway.auth.publicKeyFile', auth.publicKeyFile), alg, 'gateway.auth.publicKeyFile');
    pick = () => one;
  } else {
    pick = keySetPicker(await readKeySet(auth.jwksFile!, auth.algorithm), verifierFor);
  }
  const toleranceMs = auth.clockToleranceSec * 1000;
  return async (token) => {
    if (token.length > MAX_TOKEN_CHARS) throw new TokenError(`token longer than ${MAX_TOKEN_CHARS} characters`);
    let payload: JWTPayload;
    try {
      payload = pick(token)(token) as JWTPayload;
    } catch (err) {
      if (err instanceof TokenError) throw err;
      throw new TokenError(`token refused: ${(err as { code?: string }).code ?? (err as Error).message}`, { cause: err });
    }
    const now = clock.now();
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new TokenError('token refused: exp must be a number');
    if (payload.exp * 1000 + toleranceMs <= now) throw new TokenError('token refused: TOKEN_EXPIRED');
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf * 1000 - toleranceMs > now)) {
      throw new TokenError('token refused: TOKEN_NOT_YET_VALID');
    }
    return principalOf(payload);
  };
}

const PUBLIC_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
const MAX_KEYS = 64;

interface SetKey {
  kid: string | undefined;
  alg: string;
  pem: string;
}

/** A JWKS file's public keys, each as PEM with its algorithm (the key's `alg`, else gateway.auth.algorithm). */
async function readKeySet(path: string, algorithm: string | undefined): Promise<SetKey[]> {
  const field = 'gateway.auth.jwksFile';
  const text = await readText(field, path);
  let keys: unknown;
  try {
    keys = (JSON.parse(text) as { keys?: unknown }).keys;
  } catch (err) {
    throw new GatehouseError(ErrorCode.Config, `${field}: not a JSON Web Key Set: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw new GatehouseError(ErrorCode.Config, `${field}: a JSON Web Key Set is {"keys": [...]} with 1..${MAX_KEYS} keys`);
  }
  return keys.map((jwk: Record<string, unknown>, i) => {
    const alg = typeof jwk.alg === 'string' ? jwk.alg : algorithm;
    if (!alg || !PUBLIC_ALGS.has(alg)) {
      throw new GatehouseError(ErrorCode.Config, `${field}: keys[${i}] names no public-key algorithm (its alg, or gateway.auth.algorithm: ${[...PUBLIC_ALGS].join(', ')})`);
    }
    try {
      const pem = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      return { kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg, pem };
    } catch (err) {
      throw new GatehouseError(ErrorCode.Config, `${field}: keys[${i}] is not a public key: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The token header's `kid` picks the key (a set of one key serves tokens without a kid); no match refuses it. */
function keySetPicker(keys: SetKey[], verifierFor: (key: string, alg: string, field: string) => VerifierSync): (token: string) => VerifierSync {
  const byKid = new Map<string | undefined, VerifierSync>();
  keys.forEach((k, i) => byKid.set(k.kid, verifierFor(k.pem, k.alg, `gateway.auth.jwksFile keys[${i}]`)));
  const only = keys.length === 1 ? byKid.get(keys[0]!.kid) : undefined;
  const header = createDecoder({ complete: true });
  return (token) => {
    let kid: unknown;
    try {
      kid = (header(token) as { header: { kid?: unknown } }).header.kid;
    } catch (err) {
      throw new TokenError(`token refused: ${(err as { code?: string }).code ?? 'MALFORMED'}`, { cause: err });
    }
    const v = typeof kid === 'string' ? byKid.get(kid) : only;
    if (!v) throw new TokenError(kid === undefined ? 'token refused: it names no key (kid) and the key set has several' : 'token refused: no key with its kid');
    return v;
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
