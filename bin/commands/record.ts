/**
 * `gatehouse record <kind>/<id> [--for 60s] [--out FILE]`: a flight recording of one actor (actors/runtime/recorder.ts)
 * to a file `gatehouse replay` runs. Nodes record the actor wherever it lives, so a recording goes on through a
 * migration. Kinds that declare secret fields (`redact`) are not recorded.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { startRecording } from '../../actors/runtime/recorder-collect.js';
import { GatehouseError } from '../../common/errors.js';
import { loadApps } from '../../server/apps.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { actorArg, withExamples } from '../cli-kit.js';
import { connectTool } from './tool-bus.js';

/** `60s`, `2m`, `500ms` or a number of seconds → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new GatehouseError('USAGE', `expected a duration like 60s, 2m or 500ms, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

export function recordCommand(): Command {
  const cmd = new Command('record')
    .description("record an actor's starting state and every event it handles (timers included) to a file for `gatehouse replay`")
    .argument('<actor>', '<kind>/<id>, e.g. lobby-city/s01-g01-c01')
    .addOption(new Option('--for <duration>', 'how long to record (60s, 2m, 500ms)').default('60s'))
    .addOption(new Option('--out <file>', 'where to write the recording (default <kind>-<id>.rec.jsonl)'))
    .action(async (target: string, opts: Opts) => {
      const config = configFrom(opts);
      const { kind, id } = actorArg(target);
      const kinds = (await loadApps(config)).flatMap((a) => a.kinds);
      const k = kinds.find((x) => x.name === kind);
      if (!k) throw new GatehouseError('USAGE', `no kind ${kind} in this deployment's apps (${kinds.map((x) => x.name).join(', ')})`);
      if (k.redact?.length) throw new GatehouseError('USAGE', `${kind} declares secret fields (${k.redact.join(', ')}): it is never recorded`);
      const forMs = parseDuration(String(opts.for));
      const out = typeof opts.out === 'string' ? opts.out : `${kind}-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.rec.jsonl`;
      const bus = await connectTool(config);
      try {
        const rec = startRecording(bus, kind, id, { forMs });
        process.stderr.write(`recording ${kind}/${id} for ${forMs / 1000} s (Ctrl-C stops early) → ${out}\n`);
        const onInt = () => rec.stop();
        process.once('SIGINT', onInt);
        await rec.finished;
        process.off('SIGINT', onInt);
        writeFileSync(out, rec.file());
        const turns = rec.frames.filter((f) => f.r === 'turn').length;
        const nodes = [...new Set(rec.frames.map((f) => f.node))];
        process.stderr.write(`${turns} turns recorded on ${nodes.join(', ') || 'no node (the actor took no turn)'}${rec.truncated ? `; stopped early: ${rec.truncated}` : ''} → ${out}\n`);
      } finally {
        await bus.close();
      }
    });
  return withExamples(withConfigOptions(cmd), [
    'gatehouse record lobby-city/s01-g01-c01 --for 2m --nats nats://127.0.0.1:4222 --prefix mh',
    'gatehouse record chat-room/lobby --data ./data --out room.rec.jsonl',
  ]);
}

export async function runRecord(argv: string[]): Promise<void> {
  await recordCommand().parseAsync(argv, { from: 'user' });
}
