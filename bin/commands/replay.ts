/**
 * `gatehouse replay FILE [--until N]`: runs a flight recording (`gatehouse record`, the console) through the actor's
 * machine in this process (no bus, no store), printing each turn's transition, and says whether the replayed state is
 * the recorded one after every turn, at every new instance (a migration, a reload) and at the end. Exits 1 when not.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { decodeRecording, replayRecording } from '../../actors/runtime/replay.js';
import { GatehouseError } from '../../common/errors.js';
import { loadApps } from '../../server/apps.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { withExamples } from '../cli-kit.js';

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('replay a recording on the machine alone, printing each transition and checking it against the recorded state')
    .argument('<file>', 'a recording (gatehouse record, or downloaded from the console)')
    .addOption(new Option('--until <n>', 'stop after turn n'))
    .addOption(new Option('--context', 'print the final context'))
    .action(async (file: string, opts: Opts) => {
      const config = configFrom(opts);
      const { header, frames } = decodeRecording(readFileSync(file, 'utf8'));
      const kinds = (await loadApps(config)).flatMap((a) => a.kinds);
      const kind = kinds.find((k) => k.name === header.kind);
      if (!kind) throw new GatehouseError('USAGE', `the recording is of kind ${header.kind}, which this configuration's apps do not have (${kinds.map((k) => k.name).join(', ')}): give the same apps (--app, node.builtinApps)`);
      const until = opts.until === undefined ? undefined : Number(opts.until);
      if (until !== undefined && !(Number.isInteger(until) && until >= 0)) throw new GatehouseError('USAGE', '--until expects a turn number');
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`${header.kind}/${header.id}: ${frames.filter((f) => f.r === 'turn').length} turns recorded`);
      const res = replayRecording(kind, frames, {
        until,
        onStep: (s) => out(`#${s.n} [${s.node}] ${s.label}: ${JSON.stringify(s.from)} → ${JSON.stringify(s.to)}${s.crashed ? ' (crashed, restarted)' : ''}${s.match ? '' : '   ✗ differs from the recorded state'}`),
        onCheckpoint: (c) => out(`-- continues on ${c.node}: ${c.match ? 'its starting state is the replayed one' : '✗ its starting state differs from the replayed one'}`),
      });
      if (opts.context) out(JSON.stringify(res.final, null, 2));
      if (until !== undefined) out(`stopped after turn ${res.turns}`);
      else out(res.matches ? `final state matches the recording (${res.turns} turns)` : `✗ the replay differs from the recording (${res.mismatches} turns differ)`);
      if (!res.matches) process.exitCode = 1;
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse replay lobby-city-s01-g01-c01.rec.jsonl', 'gatehouse replay room.rec.jsonl --until 10 --context']);
}

export async function runReplay(argv: string[]): Promise<void> {
  await replayCommand().parseAsync(argv, { from: 'user' });
}
