/** Counters a gateway keeps for `status` and tests (plain numbers: cheap to bump on every request). */
export interface GatewayMetrics {
  accepted: number;
  requests: number;
  rateLimited: number;
  slowConsumers: number;
  badFrames: number;
  resumes: number;
  pushes: number;
  pushesDropped: number;
}

export function newGatewayMetrics(): GatewayMetrics {
  return { accepted: 0, requests: 0, rateLimited: 0, slowConsumers: 0, badFrames: 0, resumes: 0, pushes: 0, pushesDropped: 0 };
}
