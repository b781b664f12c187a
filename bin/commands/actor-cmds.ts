/**
 * `gatehouse tail | inspect | tell | ask`: look at and talk to actors of a running deployment, over NATS (--nats) or
 * through an embedded node's control socket (--data DIR).
 */
import { Command, Option } from 'commander';
import { ActorClient } from '../../actors/runtime/client.js';
import { SocketBus } from '../../bus/socket/socket-bus.js';
import { loadApps } from '../../server/apps.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { actorArg, parseJson, withExamples } from '../cli-kit.js';
import { connectCluster } from './cluster-tools.js';
import { inspectViaNode } from './inspect.js';
import { redactionsOf, tail, type TailFormat } from './tail.js';
import { connectTool } from './tool-bus.js';

export function tailCommand(): Command {
  const cmd = new Command('tail')
    .description('print messages on subjects matching <pattern> (relative to the prefix): actor messages, replies, traces')
    .argument('[pattern]', "subject pattern: 'chat-room.>' (messages to chat rooms), 'trace.>' (state transitions), '>' (all)", '>')
    .addOption(new Option('--format <format>', 'text (readable) or json (one object a line); default: text on a terminal, json when piped').choices(['text', 'json']))
    .action(async (pattern: string, opts: Opts) => {
      const config = configFrom(opts);
      const format = (opts.format as TailFormat | undefined) ?? (process.stdout.isTTY ? 'text' : 'json');
      const bus = await connectTool(config);
      // Fields the deployment's kinds declare secret (defineKind redact) are shown as [redacted].
      const redactions = redactionsOf((await loadApps(config)).flatMap((a) => a.kinds));
      const stop = tail(bus, pattern, (line) => process.stdout.write(line + '\n'), redactions, (e) => process.stderr.write(`gatehouse tail: ${e}\n`), format);
      process.stderr.write(`tailing ${bus.prefix}.${pattern} (Ctrl-C to stop)\n`);
      process.once('SIGINT', () => {
        stop();
        void bus.close().then(() => process.exit(0));
      });
    });
  return withExamples(withConfigOptions(cmd), [
    "gatehouse tail 'trace.>' --data ./data                     # every state transition of the embedded node",
    "gatehouse tail 'chat-room.>' --nats nats://127.0.0.1:4222 --prefix mh",
    "gatehouse tail 'lobby-city.>' --format json | jq .data",
  ]);
}

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description("an actor's current state, mailbox and counters (never creates it: an absent actor is NOT_FOUND)")
    .argument('<actor>', '<kind>/<id>, e.g. chat-room/lobby or ledger/acct-1')
    .action(async (target: string, opts: Opts) => {
      const config = configFrom(opts);
      const to = actorArg(target);
      if (config.bus.kind === 'nats') {
        // Through a node's read-only control: the ops NATS user may inspect but never publish into an actor.
        const t = await connectCluster(config);
        try {
          process.stdout.write(JSON.stringify(await inspectViaNode(t, config, to), null, 2) + '\n');
        } finally {
          await t.close();
        }
        return;
      }
      await withClient(config, async (client) => void process.stdout.write(JSON.stringify(await client.ask(to, { type: '$inspect' }), null, 2) + '\n'));
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse inspect chat-room/lobby --data ./data', 'gatehouse inspect ledger/acct-1 --nats nats://127.0.0.1:4222 --prefix mh']);
}

export function tellCommand(): Command {
  const cmd = new Command('tell')
    .description('send a message to an actor (no reply)')
    .argument('<actor>', '<kind>/<id>, e.g. ledger/acct-1')
    .argument('<json>', 'the message, e.g. \'{"type":"inc"}\'')
    .action(async (target: string, json: string, opts: Opts) => {
      const config = configFrom(opts);
      const to = actorArg(target);
      const msg = parseJson(json);
      await withClient(config, async (client, flush) => {
        client.tell(to, msg);
        await flush();
      });
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse tell ledger/acct-1 \'{"type":"inc","from":"me","n":0}\' --data ./data']);
}

export function askCommand(): Command {
  const cmd = new Command('ask')
    .description('send a message to an actor and print its reply')
    .argument('<actor>', '<kind>/<id>, e.g. ledger/acct-1')
    .argument('<json>', 'the message, e.g. \'{"type":"get"}\'')
    .action(async (target: string, json: string, opts: Opts) => {
      const config = configFrom(opts);
      const to = actorArg(target);
      const msg = parseJson(json);
      await withClient(config, async (client) => void process.stdout.write(JSON.stringify(await client.ask(to, msg), null, 2) + '\n'));
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse ask ledger/acct-1 \'{"type":"get"}\' --data ./data', 'gatehouse ask counter/c1 \'{"type":"get"}\' --nats nats://127.0.0.1:4222']);
}

async function withClient(config: ReturnType<typeof configFrom>, run: (client: ActorClient, flush: () => Promise<void>) => Promise<void>): Promise<void> {
  const bus = await connectTool(config);
  const shards = bus instanceof SocketBus ? bus.hello.shards : config.actors.shards;
  const client = new ActorClient(bus, { shards, askTimeoutMs: config.actors.askTimeoutMs });
  try {
    await run(client, () => bus.flush());
  } finally {
    await bus.close();
  }
}
