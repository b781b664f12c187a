/**
 * `gatehouse start` (everything in one process, embedded bus by default) and `gatehouse node` (join a NATS bus with a
 * prefix and roles). Both run until SIGINT/SIGTERM, then stop gracefully: sockets closed, turns finished, durable
 * state written.
 */
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode, type NodeOptions } from '../../server/node.js';
import { defaultApps } from '../../server/apps.js';
import { nodeComponents } from '../../server/components.js';

export async function runNode(config: Config, opts: { banner: boolean }): Promise<GatehouseNode> {
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const apps = defaultApps();
  const options: NodeOptions = { config, apps, log, ...nodeComponents(config) };
  if (config.bus.kind === 'memory') options.embedded = createEmbedded();
  const node = await startNode(options);
  if (opts.banner) printBanner(node);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    node.log.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err) => {
        node.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return node;
}

function printBanner(node: GatehouseNode): void {
  const s = node.status() as Record<string, unknown>;
  const lines = [
    '',
    `gatehouse node ${node.id} is running`,
    `  prefix      ${node.config.prefix}`,
    `  bus         ${node.bus.kind === 'memory' ? 'embedded (in-memory bus and store; no NATS needed)' : node.config.nats.servers.join(', ')}`,
    `  roles       ${node.config.node.roles.join(', ')}`,
    `  apps        ${node.apps.map((a) => a.name).join(', ')}`,
  ];
  const gw = s.gateway as { urls?: Record<string, string> } | undefined;
  if (gw?.urls) {
    lines.push('  connect to');
    for (const [what, url] of Object.entries(gw.urls)) lines.push(`    ${what.padEnd(18)} ${url}`);
  }
  lines.push('  stop with Ctrl-C', '');
  process.stdout.write(lines.join('\n') + '\n');
}
