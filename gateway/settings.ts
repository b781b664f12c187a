/** The gateway's settings: config.gateway plus the few timings derived from it. */
import type { Config } from '../config/schema.js';

export interface GatewaySettings extends Readonly<Config['gateway']> {
  /** A route handler that has not answered by then gets TIMEOUT (its own asks usually time out first). */
  readonly requestTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** How long a closing connection may linger before it is destroyed. */
  readonly closeTimeoutMs: number;
  /** How often an attached session checks that its connection's gateway is still there. */
  readonly sessionCheckMs: number;
}

export function gatewaySettings(config: Config): GatewaySettings {
  return {
    ...config.gateway,
    requestTimeoutMs: 2 * config.actors.askTimeoutMs,
    handshakeTimeoutMs: 10_000,
    closeTimeoutMs: 2_000,
    // A gateway that died without a word leaves its sessions attached; each finds out within one grace period,
    // so a ghost lasts at most two grace periods.
    sessionCheckMs: config.gateway.sessionGraceMs,
  };
}
