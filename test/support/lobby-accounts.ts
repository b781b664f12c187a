/**
 * The lobby rig (lobby-runtime.ts) with clients authenticated as accounts, for the security tests: `as(account,
 * n)` is a stand-in client whose principal is that verified account (as a token-mode gateway would set it).
 */
import type { ActorHost } from '../../actors/runtime/host.js';
import { ManualClock } from '../../common/clock.js';
import type { Principal } from '../../node-api/auth.js';
import { memoryImpl, type Env } from './impls.js';
import { startLobby, type LobbyRig, type Session } from './lobby-runtime.js';

export interface AccountsRig {
  rig: LobbyRig;
  /** Client number `n`, authenticated as `account` (optionally with the token's `capcomIds`). */
  as(account: string, n: number, capcomIds?: string[]): Session;
  stop(): Promise<void>;
}

export async function startAccountsRig(prefix: string): Promise<AccountsRig> {
  const env: Env = await memoryImpl.setup();
  const hosts: ActorHost[] = [];
  const rig = await startLobby(env, { prefix, clock: new ManualClock(), hosts });
  return {
    rig,
    as: (account, n, capcomIds) => {
      const p: Principal = capcomIds ? { account, capcomIds } : { account };
      return rig.session(n, p);
    },
    async stop() {
      for (const h of hosts) await h.stop();
      await env.teardown();
    },
  };
}
