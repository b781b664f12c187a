/**
 * Every listening port of a node, by config key, and `--port-base N`: one number that places them all, so that two
 * deployments (or a second checkout) on one host need one flag instead of six `--set` keys. The layout is fixed and
 * documented (`gatehouse start --help`): base+0 native WebSocket, +1 native TCP, +2 Pomelo WebSocket, +3 Pomelo TCP,
 * +4 HTTP (entry, pages, SDK), +5 the ops endpoint (metrics, status). Worker threads and spawned nodes take the
 * metrics ports after it (metricsPortOf).
 */
import { ConfigError } from '../common/errors.js';
import type { Config } from './schema.js';

/** Config key → offset from the port base. */
export const PORT_LAYOUT: ReadonlyArray<readonly [key: string, offset: number, what: string]> = [
  ['gateway.wsPort', 0, 'native WebSocket'],
  ['gateway.tcpPort', 1, 'native TCP'],
  ['gateway.pomeloWsPort', 2, 'Pomelo WebSocket'],
  ['gateway.pomeloTcpPort', 3, 'Pomelo TCP'],
  ['gateway.httpPort', 4, 'HTTP: entry, web pages, browser SDK'],
  ['metrics.port', 5, 'ops endpoint: status page, /metrics'],
];

/** Ports a base leaves free above the node's own six, for thread and spawned nodes' metrics endpoints. */
export const PORT_SPAN = 6;

/** `--port-base N` as `--set key=value` entries (given before the user's own `--set`, which therefore win). */
export function portBaseSets(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const base = Number(raw);
  if (!Number.isInteger(base) || base < 1024 || base + PORT_SPAN > 65535) {
    throw new ConfigError(`--port-base must be a whole number from 1024 to ${65535 - PORT_SPAN}; got ${JSON.stringify(raw)}`, ['--port-base']);
  }
  return PORT_LAYOUT.map(([key, offset]) => `${key}=${base + offset}`);
}

/** The config key whose port is `port` (to name it when the port is taken), or undefined. */
export function portKeyOf(config: Config, port: number): string | undefined {
  const values: Record<string, number> = {
    'gateway.wsPort': config.gateway.wsPort,
    'gateway.tcpPort': config.gateway.tcpPort,
    'gateway.pomeloWsPort': config.gateway.pomeloWsPort,
    'gateway.pomeloTcpPort': config.gateway.pomeloTcpPort,
    'gateway.httpPort': config.gateway.httpPort,
    'metrics.port': config.metrics.port,
  };
  return port > 0 ? Object.keys(values).find((k) => values[k] === port) : undefined;
}

/**
 * The metrics port of the `index`-th extra node of this process or host (a worker thread, a spawned process): the
 * ports above the base's six, or 0 (a free one) when the node's own is 0. Without this they all asked for the same
 * port, and every one but the first ran without an ops endpoint.
 */
export function metricsPortOf(config: Config, index: number): number {
  const p = config.metrics.port;
  return p === 0 ? 0 : Math.min(65535, p + 1 + index);
}
