/**
 * Small helpers for the CLI's commands (commander): examples under a command's help, a command that hands its raw
 * arguments to a `run<Name>(argv)` function, and the `<kind>/<id>` and JSON arguments several commands take.
 */
import { Command } from 'commander';
import { errorMessage, GatehouseError } from '../common/errors.js';

/** Adds an "Examples:" block to the command's `--help`. */
export function withExamples(cmd: Command, examples: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/**
 * A command whose module parses its own arguments: `run(argv)` gets everything after the command's name, `--help`
 * included. Registering one is one line in program.ts, e.g.
 *   passthrough('top', 'live rates per node and kind', '[flags]', () => import('./commands/top.js').then((m) => m.runTop))
 */
export function passthrough(name: string, summary: string, usage: string, load: () => Promise<(argv: string[]) => Promise<void>>): Command {
  return new Command(name)
    .description(summary)
    .usage(usage)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]')
    .action(async (args: string[]) => (await load())(args));
}

export function actorArg(arg: string | undefined): { kind: string; id: string } {
  const slash = arg?.indexOf('/') ?? -1;
  if (!arg || slash <= 0 || slash === arg.length - 1) throw new GatehouseError('USAGE', `expected <kind>/<id>, got ${JSON.stringify(arg ?? '')}`);
  return { kind: arg.slice(0, slash), id: arg.slice(slash + 1) };
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) throw new GatehouseError('USAGE', 'expected a JSON message, e.g. \'{"type":"inc"}\'');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatehouseError('USAGE', `message is not valid JSON: ${errorMessage(err)}`);
  }
}

/** A whole number flag within bounds, or a USAGE error naming the flag. */
export function intFlag(raw: unknown, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new GatehouseError('USAGE', `--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  return n;
}
