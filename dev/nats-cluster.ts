/**
 * A 3-server NATS cluster on loopback for fault tests: routes between all servers, JetStream on each with its own
 * store dir, and the ability to kill (-9) and restart one server on its old ports and data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, startNatsServer, type NatsServerHandle } from './nats-server.js';

export interface NatsCluster {
  readonly urls: string[];
  server(i: number): NatsServerHandle;
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `opts.startNow`: how many servers start at once (default all); the others start with `restart(i)`. A cluster started
 * with one server of three has no JetStream quorum: a new replicated stream has no leader until a second one starts.
 */
export async function startNatsCluster(size = 3, name = 'gh', opts: { startNow?: number } = {}): Promise<NatsCluster> {
  const root = await mkdtemp(join(tmpdir(), 'gh-cluster-'));
  const ports = await freePorts(2 * size);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size);
  const routes = routePorts.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
  const configFor = (i: number) =>
    `cluster { name: "${name}", listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`;
  const servers: NatsServerHandle[] = [];
  const start = (i: number) =>
    startNatsServer({
      port: clientPorts[i],
      serverName: `${name}-${i}`,
      storeDir: join(root, `s${i}`),
      config: configFor(i),
    });
  try {
    for (let i = 0; i < (opts.startNow ?? size); i++) servers.push(await start(i));
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    urls: clientPorts.map((p) => `nats://127.0.0.1:${p}`),
    server: (i) => servers[i]!,
    async kill(i) {
      await servers[i]!.kill();
    },
    async restart(i) {
      if (servers[i] && !servers[i]!.exited) await servers[i]!.kill();
      servers[i] = await start(i);
    },
    async stop() {
      await Promise.all(servers.filter(Boolean).map((s) => s.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
