/**
 * Top frames by self time in V8 .cpuprofile files (from `--cpu-prof`, e.g. BENCH_CPU_PROF=gatehouse npm run bench --
 * chat): where a process spends its own CPU, summed by function and location, idle apart.
 *
 *   node dist/bench/chat/prof-top.js <file.cpuprofile>... [--top 25]
 *        [--windows .tmp/prof/chat-windows.json --system 'gatehouse embedded' [--size 10]]
 *
 * With --windows, only samples taken inside that system's measured windows count (of one room size with --size):
 * V8 stamps samples on the host's monotonic clock in microseconds, the clock bench chat records its windows on.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readCpuProfile } from '../harness/cpuprofile.js';


const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const top = Number(opt('--top') ?? 25);
const windowsFile = opt('--windows');
const system = opt('--system');
const size = opt('--size');
let windows: Array<[number, number]> | undefined;
if (windowsFile) {
  const all = JSON.parse(readFileSync(windowsFile, 'utf8')) as Record<string, Array<[number, number, number]>>;
  const ws = all[system ?? ''];
  if (!ws) throw new Error(`no windows for system ${JSON.stringify(system)}; have ${Object.keys(all).join(', ')}`);
  windows = ws.filter(([s]) => size === undefined || s === Number(size)).map(([, a, b]) => [a * 1000, b * 1000]);
}
const inWindow = (t: number) => !windows || windows.some(([a, b]) => t >= a && t <= b);

for (const file of argv) {
  const p = readCpuProfile(file);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (!inWindow(t)) return;
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  process.stdout.write(`\n${basename(file)}: ${(total / 1e6).toFixed(2)} s sampled${windows ? ' in windows' : ''}, ${(busy / 1e6).toFixed(2)} s busy\n`);
  const rows = [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, us] of rows) process.stdout.write(`  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
}
