/**
 * Several gateway processes on one set of ports (`gateway.procs` > 1, `--gateway-procs N`), with node:cluster: the
 * primary forks N children running the same command; each child is a gateway-only node with its own node id (so its
 * connections are addressable as `conn.@<child id>.<conn>`), and its listen() calls are served by the primary, which
 * accepts on the shared ports and hands connections round-robin to the children. Node 20 has no SO_REUSEPORT option
 * for net servers, so node:cluster is the one portable way to share a port.
 *
 * The primary keeps the node's other roles (a worker, typically) and no gateway. A child that dies is replaced.
 * Needs a NATS bus: children are separate processes and meet the rest of the deployment there.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { GatehouseError } from '../common/errors.js';
import type { Config } from '../config/schema.js';

const ENV_INDEX = 'GH_GATEWAY_PROC';
const ENV_BASE = 'GH_GATEWAY_BASE';
const MAX_RESTARTS = 10;

export interface GatewayProcs {
  readonly ids: string[];
  /** The children's URLs (they share ports, so any child's). */
  readonly urls: Record<string, string>;
  stop(): Promise<void>;
}

type ChildMsg = { type: 'gateway-ready'; id: string; urls: Record<string, string> } | { type: 'gateway-failed'; error: string };

/** In a gateway child: the configuration it runs with (gateway role only, one process). Else undefined. */
export function gatewayProcConfig(config: Config): Config | undefined {
  const index = process.env[ENV_INDEX];
  if (!cluster.isWorker || index === undefined) return undefined;
  return {
    ...config,
    node: { ...config.node, id: `${process.env[ENV_BASE]}-gw${index}`, roles: ['gateway'], threads: 0 },
    gateway: { ...config.gateway, procs: 1 },
  };
}

/** In a gateway child: tells the primary it is listening (or why it could not start). */
export function reportToPrimary(r: { id: string; urls: Record<string, string> } | { error: string }): void {
  if (!cluster.isWorker || !process.send) return;
  process.send('error' in r ? { type: 'gateway-failed', error: r.error } : { type: 'gateway-ready', ...r });
}

export async function startGatewayProcs(config: Config, baseId: string, log: Logger): Promise<GatewayProcs> {
  const n = config.gateway.procs;
  if (config.bus.kind !== 'nats') {
    throw new GatehouseError('USAGE', `gateway.procs=${n} runs gateway processes that meet over NATS: give --nats URL`);
  }
  let stopping = false;
  let restarts = 0;
  const workers = new Map<number, Worker>();
  const ids: string[] = [];
  let urls: Record<string, string> = {};

  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork({ [ENV_INDEX]: String(index), [ENV_BASE]: baseId });
      workers.set(index, w);
      w.on('message', (m: ChildMsg) => {
        if (m?.type === 'gateway-ready') {
          ids[index] = m.id;
          urls = m.urls;
          resolve();
        } else if (m?.type === 'gateway-failed') reject(new GatehouseError('GATEWAY', `gateway process ${index}: ${m.error}`));
      });
      w.on('exit', (code, signal) => {
        reject(new GatehouseError('GATEWAY', `gateway process ${index} exited (${signal ?? code}) before it was ready`));
        // Exit 0 is a graceful stop (e.g. Ctrl-C reached the children before this process): not a crash.
        if (stopping || code === 0 || workers.get(index) !== w) return;
        workers.delete(index);
        if (++restarts > MAX_RESTARTS) {
          log.error({ index, restarts }, 'gateway process keeps dying: not restarting it');
          return;
        }
        log.warn({ index, code, signal }, 'gateway process died: starting a new one');
        fork(index).catch((err: unknown) => log.error({ err, index }, 'gateway process restart failed'));
      });
    });

  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...workers.values()].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const t = setTimeout(() => w.process.kill('SIGKILL'), 10_000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    await Promise.all(Array.from({ length: n }, (_, i) => fork(i)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    get ids() {
      return ids.filter(Boolean);
    },
    get urls() {
      return urls;
    },
    stop,
  };
}
