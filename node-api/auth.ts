/**
 * Who a client is, as the gateway established it before any app route ran (gateway.auth: `token`, `hook` or
 * `none`), and the hook an app module may supply for `hook` mode. The principal is kept with the session (it
 * survives a resume with the session's ticket) and handed to route handlers as `ctx.principal`.
 */

export interface Principal {
  /** The account (a token's `sub`, or what the hook answered). */
  readonly account: string;
  /** Capcom IDs the account may use in the lobby, when the credential lists them; absent: claimed on first use. */
  readonly capcomIds?: readonly string[];
  /** Apps whose routes the account may call, when the credential restricts them; absent: all. */
  readonly apps?: readonly string[];
  /**
   * Auth mode `none` (development only): nothing was checked and the account is whatever the client said (or
   * `anyone`). Apps let such a principal act as anyone, which is exactly what `none` means.
   */
  readonly unverified?: true;
  /** With `unverified`: the client's remote address (what the lobby's budget of new records counts). */
  readonly address?: string;
}

/** What the gateway knows of the connection presenting a credential. */
export interface AuthInfo {
  readonly protocol: 'native' | 'pomelo';
  /** The peer's address as the socket reports it; absent when the transport does not say. */
  readonly remoteAddress?: string;
  /** Gateway node id. */
  readonly node: string;
}

/**
 * `hook` mode: checks a credential and answers the principal, or throws (any error: the client gets UNAUTHORIZED
 * and close 4100; the error itself is logged, never sent). Exported by an app module (`node.apps`) as
 * `app.authenticate`; exactly one app of a node may supply it.
 */
export type Authenticate = (credential: string, info: AuthInfo) => Promise<Principal>;
