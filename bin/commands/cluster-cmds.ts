/** `gatehouse status | drain | move | export | import`: commands on a running deployment or its stored state. */
import { Command } from 'commander';
import { GatehouseError } from '../../common/errors.js';
import type { Config } from '../../config/schema.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { intFlag, withExamples } from '../cli-kit.js';
import { connectCluster, drain, formatStatus, moveShard, readEmbeddedStatus, readStatus, unpinShard, type ToolConnection } from './cluster-tools.js';
import { connectEmbedded } from './tool-bus.js';
import { exportToFile, importState, layoutOf, openStoreSide } from './state-transfer.js';

const progress = (line: string) => process.stderr.write(line + '\n');

async function withCluster(config: Config, command: string, run: (t: ToolConnection) => Promise<void>): Promise<void> {
  if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', `an embedded node is the whole deployment: \`${command}\` moves shards between the nodes of a cluster (give --nats URL)`);
  const t = await connectCluster(config);
  try {
    await run(t);
  } finally {
    await t.close();
  }
}

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('nodes, capacity, shard map, actor counts, messages/s (of a cluster, or of the embedded node on --data)')
    .option('--json', 'print the status as JSON')
    .action(async (opts: Opts) => {
      const config = configFrom(opts);
      const print = (s: Parameters<typeof formatStatus>[0]) => void process.stdout.write((opts.json ? JSON.stringify(s, null, 2) : formatStatus(s)) + '\n');
      if (config.bus.kind !== 'nats') {
        const bus = await connectEmbedded(config);
        try {
          print(await readEmbeddedStatus(bus));
        } finally {
          await bus.close();
        }
        return;
      }
      await withCluster(config, 'status', async (t) => print(await readStatus(t, config)));
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse status --nats nats://127.0.0.1:4222 --prefix mh', 'gatehouse status --data ./data --json']);
}

export function drainCommand(): Command {
  const cmd = new Command('drain')
    .description('move every shard off a node; the node exits 0 once it owns none')
    .argument('<node-id>', 'the node to empty (see gatehouse status)')
    .option('--timeout <seconds>', 'give up after this long', '120')
    .action(async (node: string, opts: Opts) => {
      const config = configFrom(opts);
      const timeoutMs = intFlag(opts.timeout, 'timeout', 120, 1, 86_400) * 1000;
      await withCluster(config, 'drain', (t) => drain(t, config, node, timeoutMs, progress));
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse drain vm-1234-ab12 --nats nats://127.0.0.1:4222 --prefix mh']);
}

export function moveCommand(): Command {
  const cmd = new Command('move')
    .description('live-move a shard (or the shard an actor lives in) to a node and pin it there; --unpin undoes the pin')
    .argument('<target>', '<kind>:<shard> (e.g. chat-room:12) or <kind>/<id> (e.g. chat-room/lobby-1)')
    .option('--to <node-id>', 'the worker node to move it to')
    .option('--unpin', 'remove the pin instead: the balancer places the shard by capacity again')
    .option('--timeout <seconds>', 'give up after this long', '120')
    .action(async (target: string, opts: Opts) => {
      const config = configFrom(opts);
      const timeoutMs = intFlag(opts.timeout, 'timeout', 120, 1, 86_400) * 1000;
      if (opts.unpin && opts.to) throw new GatehouseError('USAGE', 'give either --to <node-id> (move and pin) or --unpin, not both');
      if (!opts.unpin && typeof opts.to !== 'string') throw new GatehouseError('USAGE', 'usage: gatehouse move <kind>:<shard>|<kind>/<id> --to <node-id>   (or --unpin)');
      await withCluster(config, 'move', (t) => (opts.unpin ? unpinShard(t, config, target, progress) : moveShard(t, config, target, opts.to as string, timeoutMs, progress)));
    });
  return withExamples(withConfigOptions(cmd), [
    'gatehouse move chat-room:12 --to vm-1234-ab12 --nats nats://127.0.0.1:4222 --prefix mh',
    'gatehouse move chat-room/lobby-1 --to vm-1234-ab12 --nats nats://127.0.0.1:4222 --prefix mh',
    'gatehouse move chat-room:12 --unpin --nats nats://127.0.0.1:4222 --prefix mh',
  ]);
}

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description('dump durable actor state as JSON lines, from --data DIR (node stopped) or a cluster (--nats, --prefix)')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (opts: Opts) => {
      const config = configFrom(opts);
      const side = await openStoreSide(config);
      try {
        await exportToFile(side, config.prefix, typeof opts.out === 'string' ? opts.out : undefined, progress);
      } finally {
        await side.close();
      }
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse export --data ./data --out state.jsonl', 'gatehouse export --nats nats://127.0.0.1:4222 --prefix mh > state.jsonl']);
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description('load a dump into --data DIR or a cluster; refuses keys that hold other state unless --force')
    .argument('<file>', 'a file written by gatehouse export')
    .option('--force', 'overwrite keys that hold other state')
    .action(async (file: string, opts: Opts) => {
      const config = configFrom(opts);
      const side = await openStoreSide(config);
      try {
        await importState(file, side, layoutOf(config), opts.force === true, progress);
      } finally {
        await side.close();
      }
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse import state.jsonl --nats nats://127.0.0.1:4222 --prefix mh']);
}
