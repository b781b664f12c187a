/** Counters a gateway keeps for `status`, the ops endpoint's /metrics and tests (plain numbers: cheap to bump). */
export interface GatewayMetrics {
  accepted: number;
  requests: number;
  rateLimited: number;
  slowConsumers: number;
  badFrames: number;
  resumes: number;
  pushes: number;
  pushesDropped: number;
  /** Push messages or batched pushes dropped because they did not decode or were not `{c, r, b}` (push-handler.ts). */
  pushesMalformed: number;
  /** Sockets refused at accept because the gateway held `maxConnections` (close 4202). */
  refusedGateway: number;
  /** Sockets refused at accept because their address held `maxConnectionsPerAddress` (close 4202). */
  refusedAddress: number;
  /** Connections closed with 4200 for a sustained flood of refused requests. */
  floodClosed: number;
  /** Requests that waited because their address had `maxInFlightPerAddress` requests unfinished. */
  inFlightWaits: number;
  /** Requests answered with an error, by code (BAD_REQUEST counts oversized relays and too-deep bodies). */
  readonly errors: Record<string, number>;
}

export function newGatewayMetrics(): GatewayMetrics {
  return {
    accepted: 0,
    requests: 0,
    rateLimited: 0,
    slowConsumers: 0,
    badFrames: 0,
    resumes: 0,
    pushes: 0,
    pushesDropped: 0,
    pushesMalformed: 0,
    refusedGateway: 0,
    refusedAddress: 0,
    floodClosed: 0,
    inFlightWaits: 0,
    errors: {},
  };
}

/**
 * What the ops endpoint exports from a gateway's status, with the help text of each: counters (`_total`) and the
 * gauges `connections`, `addresses` and `requestsWaiting`. The names are `gatehouse_gateway_<snake case>`.
 */
export const GATEWAY_METRIC_HELP: Readonly<Record<string, string>> = Object.freeze({
  connections: 'Open client connections on this gateway (handshaking ones included)',
  addresses: 'Distinct remote addresses holding a connection (addresses exempt from the per-address limit excluded)',
  requestsWaiting: "Requests waiting for their address's shared budget (gateway.requestsPerSecondPerAddress), sockets paused",
  requestsDeferred: "Requests that waited for their address's shared budget instead of being refused",
  inFlightWaits: 'Requests that waited because their address had gateway.maxInFlightPerAddress requests unfinished (counted in requests_waiting while they wait)',
  accepted: 'Client connections accepted',
  requests: 'Client requests dispatched to a route',
  rateLimited: 'Requests refused with RATE_LIMITED',
  floodClosed: 'Connections closed with 4200 for a sustained flood of refused requests',
  refusedGateway: 'Sockets refused at accept with 4202: the gateway held gateway.maxConnections',
  refusedAddress: 'Sockets refused at accept with 4202: the address held gateway.maxConnectionsPerAddress',
  slowConsumers: 'Connections closed with 4201 for reading too slowly',
  badFrames: 'Frames or packages that did not decode',
  pushes: 'Pushes written to clients',
  pushesDropped: 'Pushes dropped as not encodable (too large for a frame)',
  pushesMalformed: 'Push messages from actors (or pushes in a batch) dropped as malformed',
});
