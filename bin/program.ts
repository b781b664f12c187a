/**
 * The gatehouse CLI as a commander program: every command with its own `--help` and examples, listed in the top-level
 * help; unknown flags and commands are named in the error (exit 2). Adding a command is one line here: a module's
 * `xCommand()` (a commander Command), or `passthrough(...)` for a module that parses its own `run<Name>(argv)`.
 */
import { Command } from 'commander';
import { passthrough } from './cli-kit.js';
import { askCommand, inspectCommand, tailCommand, tellCommand } from './commands/actor-cmds.js';
import { drainCommand, exportCommand, importCommand, moveCommand, statusCommand } from './commands/cluster-cmds.js';
import { initCommand } from './commands/init.js';
import { nodeCommand, spawnCommand, startCommand } from './commands/node-cmds.js';
import { natsConfigCommand } from './commands/nats-config.js';
import { tokenCommand } from './commands/token.js';
import { botsCommand } from './commands/bots.js';
import { recordCommand } from './commands/record.js';
import { replayCommand } from './commands/replay.js';
import { topCommand } from './commands/top.js';

const ABOUT = `Actor-model server on a NATS bus for game lobbies and real-time chat.

Without --nats, start runs everything in one process (no NATS needed), and tail/inspect/status/ask/tell reach the embedded node running on --data DIR (default ./data) through its control socket.`;

const AFTER = `
First steps:
  $ gatehouse start                    # one process: chat, lobby, web pages on http://127.0.0.1:7380/
  $ gatehouse init my-app              # a new app (one actor kind, one route, one test) to run with --app

Every command has its own help: gatehouse <command> --help`;

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description(ABOUT)
    .usage('<command> [flags]')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    // Wide enough that a command's summary fits on its line when the help is piped (commander's default there is 80).
    // Each command listed by its usage, so a passthrough command shows its own (`record <kind>/<id> [--for 60s]`).
    .configureHelp({ helpWidth: Math.max(process.stdout.columns ?? 0, 110), subcommandTerm: (c) => `${c.name()} ${c.usage()}`.trim() })
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', AFTER);
  const commands: Command[] = [
    startCommand().helpGroup('Run:'),
    nodeCommand().helpGroup('Run:'),
    spawnCommand().helpGroup('Run:'),
    initCommand().helpGroup('Run:'),
    statusCommand().helpGroup('Operate a deployment:'),
    drainCommand().helpGroup('Operate a deployment:'),
    moveCommand().helpGroup('Operate a deployment:'),
    exportCommand().helpGroup('Operate a deployment:'),
    importCommand().helpGroup('Operate a deployment:'),
    natsConfigCommand().helpGroup('Operate a deployment:'),
    tokenCommand().helpGroup('Operate a deployment:'),
    tailCommand().helpGroup('Look at actors:'),
    inspectCommand().helpGroup('Look at actors:'),
    tellCommand().helpGroup('Look at actors:'),
    askCommand().helpGroup('Look at actors:'),
    recordCommand().helpGroup('Look at actors:'),
    replayCommand().helpGroup('Look at actors:'),
    topCommand().helpGroup('Operate a deployment:'),
    botsCommand().helpGroup('Load:'),
  ];
  for (const c of commands) addCommand(program, c);
  return program;
}

/** Registers `cmd` with the program's help layout (error handling: gatehouse.ts, for every command at once). */
export function addCommand(program: Command, cmd: Command): void {
  cmd.configureHelp(program.configureHelp());
  program.addCommand(cmd);
}

export { passthrough };
