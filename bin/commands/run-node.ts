/**
 * `gatehouse start` (everything in one process, embedded bus by default) and `gatehouse node` (join a NATS bus with a
 * prefix and roles; `--threads N` adds N worker nodes in worker threads). Both run until SIGINT/SIGTERM, then stop
 * gracefully: sockets closed, turns finished, durable state written. A node told to drain exits 0 once it owns no
 * shard.
 */
import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode, type NodeOptions } from '../../server/node.js';
import { loadApps } from '../../server/apps.js';
import { nodeComponents } from '../../server/components.js';
import { newNodeId } from '../../server/node-id.js';
import { GatehouseError } from '../../common/errors.js';
import { startThreadNodes, type ThreadNodes } from './threads.js';
import { gatewayProcConfig, reportToPrimary, startGatewayProcs, type GatewayProcs } from '../../gateway/procs.js';

export async function runNode(given: Config, opts: { banner: boolean }): Promise<void> {
  // In one of the processes forked for `gateway.procs`, this runs a gateway-only node.
  const gatewayChild = gatewayProcConfig(given);
  const config = gatewayChild ?? given;
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const baseId = config.node.id ?? newNodeId();
  let threads: ThreadNodes | undefined;
  let gatewayProcs: GatewayProcs | undefined;
  let node: GatehouseNode | undefined;
  let stopping = false;
  const shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    Promise.all([node?.stop(), threads?.stop(), gatewayProcs?.stop()]).then(
      () => process.exit(code),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  let mainRoles = config.node.roles;
  if (config.node.threads > 0) {
    if (config.bus.kind !== 'nats') {
      throw new GatehouseError('USAGE', '--threads runs worker nodes that meet over NATS: give --nats URL (embedded mode is one node)');
    }
    threads = await startThreadNodes(config, baseId, config.node.threads, log);
    mainRoles = mainRoles.filter((r) => r !== 'worker');
  }
  if (config.gateway.procs > 1 && mainRoles.includes('gateway')) {
    gatewayProcs = await startGatewayProcs(config, baseId, log);
    mainRoles = mainRoles.filter((r) => r !== 'gateway');
  }
  if (mainRoles.length > 0) {
    const mainConfig: Config = { ...config, node: { ...config.node, id: baseId, roles: mainRoles } };
    const options: NodeOptions = {
      config: mainConfig,
      apps: await loadApps(config),
      log,
      ...nodeComponents(mainConfig, { cluster: { onDrained: () => shutdown('drained') } }),
    };
    if (config.bus.kind === 'memory') options.embedded = createEmbedded();
    try {
      node = await startNode(options);
    } catch (err) {
      reportToPrimary({ error: (err as Error).message });
      throw err;
    }
  }
  if (gatewayChild) {
    const gw = node!.status().gateway as { urls?: Record<string, string> } | undefined;
    reportToPrimary({ id: node!.id, urls: gw?.urls ?? {} });
    return;
  }
  if (opts.banner) printBanner(config, node, threads, gatewayProcs);
}

function storeLine(config: Config): string {
  if (config.store.kind === 'memory') return '  store       in memory: records are forgotten when the process stops (store.kind=memory)';
  return `  data        ${resolve(config.store.path)} (player records and durable actors are kept here across restarts)`;
}

function printBanner(config: Config, node: GatehouseNode | undefined, threads: ThreadNodes | undefined, procs?: GatewayProcs): void {
  const s = node?.status() as Record<string, unknown> | undefined;
  const lines = [
    '',
    `gatehouse node ${node?.id ?? '(threads only)'} is running`,
    `  prefix      ${config.prefix}`,
    `  bus         ${config.bus.kind === 'memory' ? 'embedded (in-memory bus; no NATS needed)' : config.nats.servers.join(', ')}`,
    ...(config.bus.kind === 'memory' ? [storeLine(config)] : []),
    `  roles       ${node ? node.config.node.roles.join(', ') : '-'}`,
  ];
  if (threads) lines.push(`  threads     ${threads.ids.join(', ')} (worker nodes)`);
  if (procs) lines.push(`  gateways    ${procs.ids.join(', ')} (processes sharing the gateway ports)`);
  if (node) lines.push(`  apps        ${node.apps.map((a) => a.name).join(', ')}`);
  if (node && config.node.roles.includes('gateway')) lines.push(authLine(config));
  const gw = (s?.gateway ?? (procs && { urls: procs.urls })) as { urls?: Record<string, string> } | undefined;
  if (gw?.urls) {
    lines.push('  connect to');
    for (const [what, url] of Object.entries(gw.urls)) lines.push(`    ${what.padEnd(18)} ${url}`);
  }
  const ops = s?.ops as { url?: string | null } | undefined;
  if (ops?.url) lines.push(`  status page ${ops.url}   (metrics: ${ops.url}metrics)`);
  lines.push('  stop with Ctrl-C', '');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Auth mode `none` is said out loud: anyone who reaches the ports can be anyone. */
function authLine(config: Config): string {
  const a = config.gateway.auth;
  if (a.mode === 'none') return '  auth        NONE: no credential is checked, anyone can be anyone (development only; see docs/OPERATIONS.md)';
  return `  auth        ${a.mode}${a.anonymousApps.length ? ` (anonymous clients allowed for: ${a.anonymousApps.join(', ')})` : ''}`;
}
