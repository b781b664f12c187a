/**
 * The gateway's authentication settings (`gateway.auth`): how a client proves who it is before any app route runs.
 * See docs/OPERATIONS.md, "Authentication".
 */
import { z } from 'zod';

export const authModeSchema = z.enum(['none', 'token', 'hook']);

export const authSchema = z
  .object({
    /**
     * `token`: signed JWTs checked with the key below; `hook`: an app module's `authenticate`; `none`: development
     * only, nothing is checked and anyone can be anyone (refused on a non-loopback `gateway.host` unless
     * `allowNoneOnPublicHost`).
     */
    mode: authModeSchema,
    /** `token` mode, HS256: a file holding the shared secret (what `gatehouse token --new-key` writes). */
    secretFile: z.string().min(1).optional(),
    /** `token` mode: a PEM public key (SPKI) file; tokens are signed with its private key using `algorithm`. */
    publicKeyFile: z.string().min(1).optional(),
    /** `token` mode: a JSON Web Key Set file (`{"keys": [...]}`); the token's `kid` picks the key. */
    jwksFile: z.string().min(1).optional(),
    /** The algorithm tokens must use with `publicKeyFile` (RS256, ES256, EdDSA...). HS256 with `secretFile`. */
    algorithm: z.string().min(1).max(16).optional(),
    /** When set, tokens must carry this `iss` / `aud`. */
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    /** Seconds of clock skew tolerated on `exp` and `nbf`. */
    clockToleranceSec: z.number().int().min(0).max(300),
    /**
     * Apps whose routes a client without a credential may call (its `ctx.principal` is undefined). The others need
     * one; a node none of whose apps admits anonymous clients refuses a credential-less handshake (4100).
     */
    anonymousApps: z.array(z.string().min(1)),
    /** Lets `mode: none` start on a non-loopback `gateway.host` (a public development box). Never in production. */
    allowNoneOnPublicHost: z.boolean(),
  })
  .strict();

export type AuthConfig = z.infer<typeof authSchema>;
