#!/usr/bin/env node
/**
 * The gatehouse CLI. Commands:
 *   start                      everything in one process (embedded bus by default; --nats to join a NATS bus)
 *   node                       join a NATS bus with a prefix and roles (--nats URL[,URL] --roles gateway,worker)
 *   tail <pattern>             print messages on matching subjects as JSON lines (e.g. 'counter.>', 'trace.>')
 *   inspect <kind>/<id>        an actor's current state
 *   tell|ask <kind>/<id> JSON  send a message to an actor (ask waits for the reply)
 * Common flags: --config FILE --prefix P --nats URL[,URL] --log-level L --set path=value
 */
import { errorMessage, GatehouseError } from '../common/errors.js';
import { configFrom, parse } from './cli-args.js';
import { runNode } from './commands/run-node.js';
import { connectEmbedded, connectTool } from './commands/tool-bus.js';
import { redactionsOf, tail } from './commands/tail.js';
import { loadApps } from '../server/apps.js';
import { ActorClient } from '../actors/runtime/client.js';
import { connectCluster, drain, formatStatus, moveShard, readEmbeddedStatus, readStatus } from './commands/cluster-tools.js';
import { spawnNodes } from './commands/spawn.js';
import { inspectViaNode } from './commands/inspect.js';
import type { Config } from '../config/schema.js';
import { SocketBus } from '../bus/socket/socket-bus.js';
import { exportToFile, importState, layoutOf, openStoreSide } from './commands/state-transfer.js';

const USAGE = `usage: gatehouse <command> [flags]

commands:
  start                      run everything in one process (embedded bus unless --nats is given)
  node                       join a NATS bus: --nats URL[,URL] --prefix P --roles gateway,worker [--threads N]
  spawn --count K            start K extra local node processes (same flags as node) and supervise them
  status [--json]            nodes, capacity, shard map, actor counts, messages/s
  drain <node>               move everything off a node; the node exits 0 when empty
  move <kind>:<shard> --to <node>   live-move a shard (and keep it there)
  move <kind>/<id> --to <node>      the same for the shard that actor lives in
  tail <pattern>             print messages on subjects matching <pattern> (relative to the prefix) as JSON lines
  inspect <kind>/<id>        show an actor's current state
  tell <kind>/<id> <json>    send a message to an actor
  ask <kind>/<id> <json>     send a message and print the reply
  nats-config --prefix P     print least-privilege NATS users (worker, gateway, ops, admin) for nats-server
  export [--out FILE]        dump durable actor state (JSON lines) from --data DIR (node stopped) or --nats/--prefix
  import FILE [--force]      load a dump into --data DIR or --nats/--prefix; refuses keys holding other state
  token --key FILE --sub A   mint a development token (gateway.auth.mode token) [--capcom-id ID ...] [--ttl 1h];
                             token --new-key FILE writes a fresh HS256 key (0600)

Without --nats, tail/inspect/status/ask/tell reach the embedded node running on --data DIR (default ./data)
through its control socket.

flags: --config FILE  --prefix P  --nats URL[,URL]  --data DIR  --roles R[,R]  --threads N  --log-level L  --set path=value
       --app MODULE (load an app module, repeatable)  --gateway-procs N (N gateway processes on the same ports)
`;

function actorArg(arg: string | undefined): { kind: string; id: string } {
  const slash = arg?.indexOf('/') ?? -1;
  if (!arg || slash <= 0 || slash === arg.length - 1) throw new GatehouseError('USAGE', `expected <kind>/<id>, got ${JSON.stringify(arg ?? '')}`);
  return { kind: arg.slice(0, slash), id: arg.slice(slash + 1) };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'bots') return (await import('./commands/bots.js')).runBots(rest);
  if (command === 'nats-config') return (await import('./commands/nats-config.js')).runNatsConfig(rest);
  if (command === 'token') return (await import('./commands/token.js')).runToken(rest);
  const { flags, positionals } = parse(rest, {
    count: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const loaded = configFrom(flags);
  // --data DIR: an embedded node's data directory (the LMDB store in DIR), for `start`, export/import and the tools.
  const config = typeof flags.data === 'string' ? { ...loaded, store: { kind: 'lmdb' as const, path: flags.data } } : loaded;
  switch (command) {
    case 'start':
      await runNode(config, { banner: true });
      return;
    case 'node':
      if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', '`node` joins a NATS bus: give --nats URL[,URL] (or use `start` for embedded mode)');
      await runNode(config, { banner: true });
      return;
    case 'spawn': {
      const count = Number(flags.count ?? 1);
      if (!Number.isInteger(count) || count < 1 || count > 64) throw new GatehouseError('USAGE', '--count must be a whole number from 1 to 64');
      if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', 'spawned nodes meet over NATS: give --nats URL');
      const skip = new Set(['--count']);
      const nodeArgs: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        if (skip.has(rest[i]!)) i++;
        else if (!rest[i]!.startsWith('--count=')) nodeArgs.push(rest[i]!);
      }
      await spawnNodes(count, nodeArgs);
      return;
    }
    case 'status':
    case 'drain':
    case 'move': {
      if (command === 'status' && config.bus.kind !== 'nats') return embeddedStatus(config, flags.json === true);
      if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', `an embedded node is the whole deployment: \`${command}\` moves shards between the nodes of a cluster (give --nats URL)`);
      const t = await connectCluster(config);
      const timeoutMs = Number(flags.timeout ?? 120) * 1000;
      const progress = (line: string) => process.stderr.write(line + '\n');
      try {
        if (command === 'status') {
          const s = await readStatus(t, config);
          process.stdout.write((flags.json ? JSON.stringify(s, null, 2) : formatStatus(s)) + '\n');
        } else if (command === 'drain') {
          if (!positionals[0]) throw new GatehouseError('USAGE', 'usage: gatehouse drain <node-id>');
          await drain(t, config, positionals[0], timeoutMs, progress);
        } else {
          if (!positionals[0] || typeof flags.to !== 'string') throw new GatehouseError('USAGE', 'usage: gatehouse move <kind>:<shard>|<kind>/<id> --to <node-id>');
          await moveShard(t, config, positionals[0], flags.to, timeoutMs, progress);
        }
      } finally {
        await t.close();
      }
      return;
    }
    case 'export':
    case 'import': {
      const progress = (line: string) => process.stderr.write(line + '\n');
      const side = await openStoreSide(config);
      try {
        if (command === 'export') await exportToFile(side, config.prefix, typeof flags.out === 'string' ? flags.out : undefined, progress);
        else {
          if (!positionals[0]) throw new GatehouseError('USAGE', 'usage: gatehouse import FILE [--force] (--nats URL --prefix P, or --data DIR)');
          await importState(positionals[0], side, layoutOf(config), flags.force === true, progress);
        }
      } finally {
        await side.close();
      }
      return;
    }
    case 'tail': {
      const pattern = positionals[0] ?? '>';
      const bus = await connectTool(config);
      // Fields the deployment's kinds declare secret (defineKind redact) are shown as [redacted].
      const redactions = redactionsOf((await loadApps(config)).flatMap((a) => a.kinds));
      const stop = tail(bus, pattern, (line) => process.stdout.write(line + '\n'), redactions, (e) => process.stderr.write(`gatehouse tail: ${e}\n`));
      process.stderr.write(`tailing ${bus.prefix}.${pattern} (Ctrl-C to stop)\n`);
      process.once('SIGINT', () => {
        stop();
        void bus.close().then(() => process.exit(0));
      });
      return;
    }
    case 'inspect':
    case 'tell':
    case 'ask': {
      const to = actorArg(positionals[0]);
      if (command === 'inspect' && config.bus.kind === 'nats') {
        // Through a node's read-only control: the ops NATS user may inspect but never publish into an actor.
        const t = await connectCluster(config);
        try {
          process.stdout.write(JSON.stringify(await inspectViaNode(t, config, to), null, 2) + '\n');
        } finally {
          await t.close();
        }
        return;
      }
      const bus = await connectTool(config);
      const shards = bus instanceof SocketBus ? bus.hello.shards : config.actors.shards;
      const client = new ActorClient(bus, { shards, askTimeoutMs: config.actors.askTimeoutMs });
      try {
        if (command === 'tell') {
          client.tell(to, parseJson(positionals[1]));
          await bus.flush();
        } else {
          const msg = command === 'inspect' ? { type: '$inspect' } : parseJson(positionals[1]);
          process.stdout.write(JSON.stringify(await client.ask(to, msg), null, 2) + '\n');
        }
      } finally {
        await bus.close();
      }
      return;
    }
    default:
      throw new GatehouseError('USAGE', `unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

async function embeddedStatus(config: Config, json: boolean): Promise<void> {
  const bus = await connectEmbedded(config);
  try {
    const s = await readEmbeddedStatus(bus);
    process.stdout.write((json ? JSON.stringify(s, null, 2) : formatStatus(s)) + '\n');
  } finally {
    await bus.close();
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) throw new GatehouseError('USAGE', 'expected a JSON message, e.g. \'{"type":"inc"}\'');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatehouseError('USAGE', `message is not valid JSON: ${errorMessage(err)}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = (err as { code?: string }).code;
  process.stderr.write(`gatehouse: ${errorMessage(err)}${code && code !== 'USAGE' ? ` [${code}]` : ''}\n`);
  process.exit(code === 'USAGE' ? 2 : 1);
});
