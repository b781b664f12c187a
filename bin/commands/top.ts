/**
 * `gatehouse top`: live rates per node and per kind, refreshed in place once a second. It announces itself like a
 * console (server/console/beat.ts), so every node sends its beat (CPU, messages/s, actors and turns per kind) while
 * top runs, and nothing when it stops. `--count N` prints N screens and exits (scripts, tests).
 */
import { Command, Option } from 'commander';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { announceConsole, CONSOLE_TOPIC, type ConsoleBeat } from '../../server/console/beat.js';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { withExamples } from '../cli-kit.js';
import { connectTool } from './tool-bus.js';

/** Beats older than this are shown as silent. */
const STALE_MS = 3000;

export function formatTop(beats: ReadonlyMap<string, { beat: ConsoleBeat; at: number }>, now: number): string {
  const nodes = [...beats.values()].sort((a, b) => (a.beat.node < b.beat.node ? -1 : 1));
  const rows = [['node', 'cpu%', 'rss MB', 'msg/s', 'actors', 'shards', 'state']];
  const kinds = new Map<string, { actors: number; turns: number }>();
  for (const { beat: b, at } of nodes) {
    rows.push([b.node, b.cpu.toFixed(1), String(b.rssMb), String(b.msgsPerSec), String(b.actors), String(b.shards), now - at > STALE_MS ? 'silent' : 'up']);
    for (const [k, n] of Object.entries(b.perKind)) (kinds.get(k) ?? kinds.set(k, { actors: 0, turns: 0 }).get(k)!).actors += n;
    for (const [k, n] of Object.entries(b.turnsPerKind)) (kinds.get(k) ?? kinds.set(k, { actors: 0, turns: 0 }).get(k)!).turns += n;
  }
  const krows = [['kind', 'turns/s', 'actors']];
  for (const [k, v] of [...kinds].sort((a, b) => b[1].turns - a[1].turns || (a[0] < b[0] ? -1 : 1))) krows.push([k, String(v.turns), String(v.actors)]);
  return `${table(rows)}\n\n${table(krows)}`;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export function topCommand(): Command {
  const cmd = new Command('top')
    .description('live rates per node and per kind (CPU, messages/s, turns/s, actors), refreshed in place')
    .addOption(new Option('--count <n>', 'print this many refreshes, then exit'))
    .action(async (opts: Opts) => {
      const config = configFrom(opts);
      const bus = await connectTool(config);
      const beats = new Map<string, { beat: ConsoleBeat; at: number }>();
      const sub = bus.subscribe(subjects.sysAll(CONSOLE_TOPIC), (m) => {
        try {
          const b = decode<ConsoleBeat>(m.data);
          beats.set(b.node, { beat: b, at: Date.now() });
        } catch {
          /* not a beat */
        }
      });
      const stopAnnouncing = announceConsole(bus);
      const tty = process.stdout.isTTY === true;
      let left = opts.count === undefined ? Infinity : Math.max(1, Number(opts.count));
      await new Promise<void>((resolve) => {
        const draw = () => {
          const screen = `gatehouse top · ${bus.prefix} · ${new Date().toISOString().slice(11, 19)} · ${beats.size} nodes\n\n${beats.size ? formatTop(beats, Date.now()) : 'waiting for nodes…'}\n`;
          // In place on a terminal (cursor home, clear below); one block after another when piped.
          process.stdout.write(tty ? `\x1b[H\x1b[J${screen}` : `${screen}\n`);
          if (--left <= 0) finish();
        };
        const timer = setInterval(draw, 1000);
        const finish = () => {
          clearInterval(timer);
          process.off('SIGINT', finish);
          resolve();
        };
        process.once('SIGINT', finish);
      });
      stopAnnouncing();
      sub.unsubscribe();
      await bus.close();
    });
  return withExamples(withConfigOptions(cmd), ['gatehouse top --nats nats://127.0.0.1:4222 --prefix mh', 'gatehouse top --data ./data --count 1']);
}

export async function runTop(argv: string[]): Promise<void> {
  await topCommand().parseAsync(argv, { from: 'user' });
}
