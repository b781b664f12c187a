/** `gatehouse start`, `gatehouse node` and `gatehouse spawn`: commands that run nodes. */
import { Command } from 'commander';
import { GatehouseError } from '../../common/errors.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { intFlag, withExamples } from '../cli-kit.js';

// The node's modules (server, gateway, cluster) load only for the commands that run one: tools start faster.
const runNode: typeof import('./run-node.js').runNode = async (...a) => (await import('./run-node.js')).runNode(...a);
const spawnNodes: typeof import('./spawn.js').spawnNodes = async (...a) => (await import('./spawn.js')).spawnNodes(...a);

export function startCommand(): Command {
  const cmd = new Command('start')
    .description('run everything in one process: gateway and workers on the embedded bus (or on NATS with --nats)')
    .action(async (opts: Opts) => runNode(configFrom(opts), { banner: true }));
  return withExamples(withConfigOptions(cmd), [
    'gatehouse start                                  # ports 7350 (ws), 7380 (web pages), data in ./data',
    'gatehouse start --port-base 9000 --data /tmp/gh  # ports 9000-9005, another data directory',
    'gatehouse start --app ./my-app/app.js            # with your own app (gatehouse init DIR makes one)',
    'gatehouse start --log-format json --log-level debug',
  ]);
}

export function nodeCommand(): Command {
  const cmd = new Command('node')
    .description('join a NATS bus as one node of a cluster (roles gateway and/or worker)')
    .action(async (opts: Opts) => {
      const config = configFrom(opts);
      if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', '`node` joins a NATS bus: give --nats URL[,URL] (or use `start` for embedded mode)');
      await runNode(config, { banner: true });
    });
  return withExamples(withConfigOptions(cmd), [
    'gatehouse node --nats nats://127.0.0.1:4222 --prefix mh --roles worker --threads 2',
    'gatehouse node --nats nats://10.0.0.5:4222 --prefix mh --roles gateway --port-base 9000',
  ]);
}

export function spawnCommand(): Command {
  const cmd = new Command('spawn')
    .description('start K extra local node processes (same flags as node) and supervise them; says when and why one exits')
    .option('--count <k>', 'how many node processes (1-64)', '1')
    .action(async (opts: Opts) => {
      const count = intFlag(opts.count, 'count', 1, 1, 64);
      const config = configFrom(opts);
      if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', 'spawned nodes meet over NATS: give --nats URL');
      await spawnNodes(count, opts, config);
    });
  return withExamples(withConfigOptions(cmd), [
    'gatehouse spawn --count 3 --nats nats://127.0.0.1:4222 --prefix mh --roles worker',
  ]);
}
