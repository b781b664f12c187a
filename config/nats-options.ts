/** NATS connection options for this deployment, from config: one place, used by nodes and operator tools alike. */
import type { NatsBusOptions } from '../bus/nats/nats-bus.js';
import type { Config } from './schema.js';

export function natsOptions(config: Config, name: string): NatsBusOptions {
  return {
    prefix: config.prefix,
    servers: config.nats.servers,
    name,
    user: config.nats.user,
    pass: config.nats.pass,
    token: config.nats.token,
    tls: config.nats.tls,
    connectTimeoutMs: config.nats.connectTimeoutMs,
    reconnectTimeWaitMs: config.nats.reconnectTimeWaitMs,
    pingIntervalMs: config.nats.pingIntervalMs,
  };
}
