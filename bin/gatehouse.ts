#!/usr/bin/env node
/**
 * The gatehouse CLI (commands in program.ts; `gatehouse --help`). Exit codes: 0 done, 1 failed, 2 usage (an unknown
 * command or flag, a missing or bad argument: the message names it).
 */
import { CommanderError } from 'commander';
import { errorMessage } from '../common/errors.js';
import { buildProgram } from './program.js';

const program = buildProgram();
// Errors come back here as CommanderErrors (exit 2 below), printed as `gatehouse: ...` like every other error.
for (const c of [program, ...program.commands]) {
  c.exitOverride();
  c.configureOutput({ writeErr: (s) => process.stderr.write(s.replace(/^error: /, 'gatehouse: ')) });
}

const argv = process.argv.slice(2);
// No command at all: the overview, as a success (commander would call it an error).
if (argv.length === 0) argv.push('--help');
program.parseAsync(argv, { from: 'user' }).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help); help and version are successes.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  const code = (err as { code?: string }).code;
  process.stderr.write(`gatehouse: ${errorMessage(err)}${code && code !== 'USAGE' ? ` [${code}]` : ''}\n`);
  process.exit(code === 'USAGE' ? 2 : 1);
});
