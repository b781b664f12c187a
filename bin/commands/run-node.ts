/**
 * `gatehouse start` (everything in one process, embedded bus by default) and `gatehouse node` (join a NATS bus with a
 * prefix and roles; `--threads N` adds N worker nodes in worker threads). Both run until SIGINT/SIGTERM, then stop
 * gracefully: sockets closed, turns finished, durable state written. A node told to drain exits 0 once it owns no
 * shard.
 */
import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { createLogger, flushLogger, resolveLogFormat } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode, type NodeOptions } from '../../server/node.js';
import { loadApps } from '../../server/apps.js';
import { nodeComponents } from '../../server/components.js';
import { newNodeId } from '../../server/node-id.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import { portKeyOf } from '../../config/ports.js';
import { startThreadNodes, type ThreadNodes } from './threads.js';
import { startEmbeddedThreads, type EmbeddedThreads } from './embedded-threads.js';
import { gatewayProcConfig, reportToPrimary, startGatewayProcs, type GatewayProcs } from '../../gateway/procs.js';

export async function runNode(given: Config, opts: { banner: boolean }): Promise<void> {
  // In one of the processes forked for `gateway.procs`, this runs a gateway-only node.
  const gatewayChild = gatewayProcConfig(given);
  const chosen = gatewayChild ?? given;
  // `auto` is decided here, where stdout is known: worker threads and forked gateways inherit the answer.
  const config: Config = { ...chosen, log: { ...chosen.log, format: resolveLogFormat(chosen.log) } };
  const log = createLogger(config.log);
  const baseId = config.node.id ?? newNodeId();
  let threads: ThreadNodes | undefined;
  let gatewayProcs: GatewayProcs | undefined;
  let node: GatehouseNode | undefined;
  let embeddedThreads: EmbeddedThreads | undefined;
  let stopping = false;
  const shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Embedded threads' broker and store are closed last: every node of the process writes to them while it stops.
    Promise.all([node?.stop(), threads?.stop(), gatewayProcs?.stop()]).then(() => embeddedThreads?.close()).then(
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
    if (config.bus.kind === 'nats') threads = await startThreadNodes(config, baseId, config.node.threads, log);
    else {
      if (!config.node.roles.some((r) => r !== 'worker')) {
        // The main thread would run no node: no gateway and no control socket, so nothing could reach the threads.
        throw new GatehouseError('USAGE', '--threads without NATS keeps the other roles on the main thread: give --roles gateway,worker (the default), not worker only');
      }
      // Embedded mode on every core: the threads' nodes reach this thread's broker and store over ports.
      embeddedThreads = await startEmbeddedThreads(config, baseId, config.node.threads, log);
      threads = embeddedThreads.threads;
    }
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
      ...nodeComponents(mainConfig, { cluster: { onDrained: () => shutdown('drained') }, ...(embeddedThreads && { forceCluster: true }) }),
    };
    if (embeddedThreads) {
      const served = embeddedThreads;
      options.embedded = served.embedded;
      options.store = served.store;
      // The ports to the threads in the main node's status (and so its metrics): queued bytes, slow-consumer drops.
      (options.components ??= []).push(async () => ({ name: 'threads', status: () => served.stats(), stop: async () => undefined }));
    } else if (config.bus.kind === 'memory') options.embedded = createEmbedded();
    try {
      node = await startNode(options);
    } catch (err) {
      const named = portInUse(config, err) ?? err;
      reportToPrimary({ error: (named as Error).message });
      throw named;
    }
  }
  if (gatewayChild) {
    const gw = node!.status().gateway as { urls?: Record<string, string> } | undefined;
    reportToPrimary({ id: node!.id, urls: gw?.urls ?? {} });
    return;
  }
  if (!opts.banner) return;
  // The banner comes last: after every start-up line the logger still buffers, and only with pages that answer.
  const urls = await existingPages(((node?.status().gateway ?? (gatewayProcs && { urls: gatewayProcs.urls })) as { urls?: Record<string, string> } | undefined)?.urls);
  await flushLogger(log);
  printBanner(config, node, threads, gatewayProcs, urls);
}

/**
 * A port already taken, named by its config key: "gateway.wsPort 7350 is in use (set --set gateway.wsPort=N or
 * --port-base N)". Undefined for any other error.
 */
export function portInUse(config: Config, err: unknown): GatehouseError | undefined {
  for (let e = err as { code?: string; port?: number; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code !== 'EADDRINUSE') continue;
    const key = typeof e.port === 'number' ? portKeyOf(config, e.port) : undefined;
    const what = key ? `${key} ${e.port}` : `port ${e.port ?? '?'}`;
    return new GatehouseError(ErrorCode.Config, `${what} is in use (set --set ${key ?? 'KEY'}=N or --port-base N to move every port)`, { cause: err });
  }
  return undefined;
}

/** Page URLs (not the client endpoints) that answer: the banner lists no page that would say "not found". */
async function existingPages(urls: Record<string, string> | undefined): Promise<Record<string, string> | undefined> {
  if (!urls) return undefined;
  const out: Record<string, string> = {};
  await Promise.all(
    Object.entries(urls).map(async ([what, url]) => {
      if (!/^https?:/.test(url) || what.includes('entry')) return void (out[what] = url);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.status !== 404) out[what] = url;
      } catch {
        out[what] = url; // could not ask (TLS, a slow start): list it rather than hide a page that may well exist
      }
    }),
  );
  // In the gateway's order.
  return Object.fromEntries(Object.keys(urls).filter((k) => k in out).map((k) => [k, out[k]!]));
}

function storeLine(config: Config): string {
  if (config.store.kind === 'memory') return '  store       in memory: records are forgotten when the process stops (store.kind=memory)';
  return `  data        ${resolve(config.store.path)} (player records and durable actors are kept here across restarts)`;
}

function printBanner(config: Config, node: GatehouseNode | undefined, threads: ThreadNodes | undefined, procs: GatewayProcs | undefined, urls: Record<string, string> | undefined): void {
  const s = node?.status() as Record<string, unknown> | undefined;
  const bus = config.bus.kind === 'memory' ? 'embedded (in-memory bus; no NATS needed)' : config.nats.servers.join(', ');
  // No blank line first: on a terminal the pretty log lines above are short, and every line counts on a first start.
  const lines = [
    `gatehouse node ${node?.id ?? '(threads only)'} is running`,
    `  bus         ${bus}, prefix ${config.prefix}`,
    ...(config.bus.kind === 'memory' ? [storeLine(config)] : []),
    `  roles       ${node ? node.config.node.roles.join(', ') : '-'}${node ? `; apps ${node.apps.map((a) => a.name).join(', ')}` : ''}`,
  ];
  if (threads) lines.push(`  threads     ${threads.ids.join(', ')} (worker nodes)`);
  if (procs) lines.push(`  gateways    ${procs.ids.join(', ')} (processes sharing the gateway ports)`);
  if (node && config.node.roles.includes('gateway')) lines.push(authLine(config));
  if (urls && Object.keys(urls).length) {
    lines.push('  connect to');
    // The index page (web pages) links the browser SDK, the chat and lobby pages, the console and the docs.
    for (const [what, url] of Object.entries(urls)) if (what !== 'browser SDK') lines.push(`    ${what.padEnd(18)} ${url}`);
  }
  const ops = s?.ops as { url?: string | null } | undefined;
  if (ops?.url) lines.push(`  status page ${ops.url}   (metrics: ${ops.url}metrics)`);
  lines.push('  stop with Ctrl-C');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Auth mode `none` is said out loud: anyone who reaches the ports can be anyone. */
function authLine(config: Config): string {
  const a = config.gateway.auth;
  if (a.mode === 'none') return '  auth        NONE: no credential is checked, anyone can be anyone (development only; see docs/OPERATIONS.md)';
  return `  auth        ${a.mode}${a.anonymousApps.length ? ` (anonymous clients allowed for: ${a.anonymousApps.join(', ')})` : ''}`;
}
