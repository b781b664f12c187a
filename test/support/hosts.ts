/** Starts ActorHosts on a contract-suite environment, with test-friendly limits. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { ActorHost } from '../../actors/runtime/host.js';
import type { ActorKind } from '../../actors/runtime/kind.js';
import type { RuntimeLimits } from '../../actors/runtime/cell-context.js';
import type { Clock } from '../../common/clock.js';
import type { Env } from './impls.js';

export const TEST_LIMITS: RuntimeLimits & { shards: number } = {
  shards: 8,
  mailboxLimit: 1000,
  askTimeoutMs: 5000,
  passivateAfterMs: 60_000,
  maxRestarts: 3,
  restartWindowMs: 10_000,
};

export interface HostOptions {
  kinds: ActorKind[];
  clock: Clock;
  prefix?: string;
  nodeId?: string;
  limits?: Partial<RuntimeLimits>;
  ownAllShards?: boolean;
  log?: Logger;
}

export async function startHost(env: Env, o: HostOptions): Promise<ActorHost> {
  const prefix = o.prefix ?? 'rt';
  const host = new ActorHost({
    nodeId: o.nodeId ?? 'n1',
    bus: await env.connect(prefix),
    store: await env.store(prefix),
    clock: o.clock,
    log: o.log,
    kinds: o.kinds,
    limits: { ...TEST_LIMITS, ...o.limits },
    ownAllShards: o.ownAllShards ?? true,
  });
  await host.start();
  return host;
}

/** A pino logger whose JSON lines are kept in memory, for asserting on what was logged. */
export function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}
