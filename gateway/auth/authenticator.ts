/**
 * The gateway's authentication step: every connection presents its credential (native `hello` token, Pomelo
 * handshake `user.token`) before its session opens, and gets a principal (node-api/auth.ts) or UNAUTHORIZED and
 * close 4100. Which apps a client without a credential may use is the operator's choice (`anonymousApps`); the
 * others' routes are guarded here, so no app route runs for a client its app does not admit.
 *
 *   none  (development) every client is `{account: <its credential or 'anyone'>, unverified}`: anyone can be anyone
 *   token signed JWTs (tokens.ts), `sub` = the account, `exp` on the injected clock
 *   hook  an app module's `authenticate(credential, info)`
 */
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { AuthConfig } from '../../config/auth.js';
import type { App } from '../../node-api/app.js';
import type { Authenticate, AuthInfo, Principal } from '../../node-api/auth.js';
import type { RouteHandler } from '../../node-api/gateway-app.js';
import { ClientErrorCode } from '../../protocol/error-codes.js';
import { ClientError } from '../errors.js';
import { createTokenVerifier, MAX_TOKEN_CHARS } from './tokens.js';
import { createRefusalLog } from './refusal-log.js';

export interface Authenticator {
  readonly mode: AuthConfig['mode'];
  /** Whether some app of this node admits clients without a credential. */
  readonly admitsAnonymous: boolean;
  /**
   * The principal for a credential (undefined: none presented). Rejects with UNAUTHORIZED when the credential is
   * refused, or absent where no app admits anonymous clients; resolves undefined for an admitted anonymous client.
   */
  authenticate(credential: string | undefined, info: AuthInfo): Promise<Principal | undefined>;
  /** `handler` of app `app`, refusing (UNAUTHORIZED) clients that app does not admit; itself when all are. */
  guard(app: string, handler: RouteHandler): RouteHandler;
}

export interface AuthenticatorOptions {
  auth: AuthConfig;
  /** gateway.host: `none` is refused on anything but loopback unless allowNoneOnPublicHost. */
  host: string;
  apps: readonly App[];
  clock: Clock;
  log: Logger;
}

const UNVERIFIED_ACCOUNT_RE = /^[\x21-\x7e]{1,128}$/;

export async function createAuthenticator(o: AuthenticatorOptions): Promise<Authenticator> {
  const { auth, log } = o;
  const anonymousApps = new Set(auth.anonymousApps);
  const admitsAnonymous = o.apps.some((a) => a.gateway && anonymousApps.has(a.name));
  let check: Authenticate;
  switch (auth.mode) {
    case 'none': {
      if (!isLoopback(o.host) && !auth.allowNoneOnPublicHost) {
        throw new GatehouseError(
          ErrorCode.Config,
          `gateway.auth.mode: none lets anyone be anyone and gateway.host ${o.host} is not loopback; set gateway.auth.mode to token or hook (or gateway.auth.allowNoneOnPublicHost: true for a development box)`,
        );
      }
      log.warn('gateway.auth.mode is none: no credential is checked, anyone can be anyone (development only)');
      // Nothing was checked: the principal is whatever the client says, marked so apps let it act as anyone.
      return {
        mode: 'none',
        admitsAnonymous: true,
        authenticate: async (credential, info) => ({
          account: credential !== undefined && UNVERIFIED_ACCOUNT_RE.test(credential) ? credential : 'anyone',
          unverified: true,
          ...(info.remoteAddress !== undefined && { address: info.remoteAddress }),
        }),
        guard: (_app, h) => h,
      };
    }
    case 'token':
      check = await tokenCheck(auth, o.clock);
      break;
    case 'hook':
      check = hookOf(o.apps);
      break;
  }
  const refusals = createRefusalLog(log, o.clock, 'authentication refused');
  return {
    mode: auth.mode,
    admitsAnonymous,
    async authenticate(credential, info) {
      if (credential === undefined) {
        if (admitsAnonymous) return undefined;
        throw new ClientError(ClientErrorCode.Unauthorized, 'a credential is required (hello token / handshake user.token)');
      }
      if (credential.length === 0 || credential.length > MAX_TOKEN_CHARS) {
        throw new ClientError(ClientErrorCode.Unauthorized, `a credential is 1..${MAX_TOKEN_CHARS} characters`);
      }
      try {
        return checked(await check(credential, info));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        // Sampled: a credential-stuffing loop must not write a line per try (refusal-log.ts).
        refusals.refused({ err, protocol: info.protocol, remote: info.remoteAddress }, typeof code === 'string' ? code : 'ERROR');
        // A hook's own error text is not for the client; a token's reason (expired, bad signature) is.
        const message = auth.mode === 'token' && code === ClientErrorCode.Unauthorized ? (err as Error).message : 'credential refused';
        throw new ClientError(ClientErrorCode.Unauthorized, message, { cause: err });
      }
    },
    guard(app, handler) {
      const anonymous = anonymousApps.has(app);
      return (ctx, body) => {
        const p = ctx.principal;
        if (!p && !anonymous) return Promise.reject(new ClientError(ClientErrorCode.Unauthorized, `app ${app} needs an authenticated client`));
        if (p?.apps && !p.apps.includes(app)) return Promise.reject(new ClientError(ClientErrorCode.Unauthorized, `account ${p.account} may not use app ${app}`));
        return handler(ctx, body);
      };
    },
  };
}

async function tokenCheck(auth: AuthConfig, clock: Clock): Promise<Authenticate> {
  const verify = await createTokenVerifier(auth, clock);
  return (credential) => verify(credential);
}

function hookOf(apps: readonly App[]): Authenticate {
  const hooks = apps.filter((a) => typeof a.authenticate === 'function');
  if (hooks.length !== 1) {
    const names = hooks.map((a) => a.name).join(', ');
    throw new GatehouseError(ErrorCode.Config, `gateway.auth.mode: hook needs exactly one app with authenticate (node.apps); found ${hooks.length === 0 ? 'none' : names}`);
  }
  const app = hooks[0]!;
  return (credential, info) => app.authenticate!(credential, info);
}

/** A hook's answer is input too: an account of the wrong shape refuses the client rather than reaching an app. */
function checked(p: Principal): Principal {
  if (!p || typeof p.account !== 'string' || p.account.length === 0 || p.account.length > 128) {
    throw new GatehouseError(ClientErrorCode.Unauthorized, 'authenticate returned no account');
  }
  return { account: p.account, ...(p.capcomIds && { capcomIds: [...p.capcomIds] }), ...(p.apps && { apps: [...p.apps] }) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
