/**
 * CPU profiles of one phase of a peer (issue 16), not of its whole life: `--cpu-prof` also samples start-up and the
 * clients' connecting, which drown a request window. A peer starts the V8 sampler through the inspector when told
 * and writes the profile when the phase ends; `areas` then sums self time by function and by area (the gateway's
 * own folders, ws, msgpackr, xstate, Node's streams and sockets, GC) and divides it by the requests of the phase.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { readCpuProfile } from '../harness/cpuprofile.js';

let session: Session | undefined;

const post = (s: Session, method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => s.post(method, params ?? {}, (err, out) => (err ? reject(err) : resolve(out))));

/** Starts sampling every `intervalUs` µs (V8's default is 1000). */
export async function profStart(intervalUs = 100): Promise<void> {
  if (session) throw new Error('a phase profile is running already');
  session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: intervalUs });
  await post(session, 'Profiler.start');
}

/** Stops sampling and writes the .cpuprofile to `file`. */
export async function profStop(file: string): Promise<void> {
  const s = session;
  if (!s) throw new Error('no phase profile running');
  session = undefined;
  const { profile } = (await post(s, 'Profiler.stop')) as { profile: unknown };
  s.disconnect();
  writeFileSync(file, JSON.stringify(profile));
}

/** The area a frame's self time counts to: a folder of ours, a package, a Node module, or V8's own. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  // dist/ or any other build's folder (hot-path's HOT_BASE): the first of the repository's top folders in the path.
  const ours = /\/(bin|bus|config|common|actors|protocol|gateway|cluster|node-api|server|lobby|chat|client|dev|bench)\/(.*)\.js$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  const node = /^node:internal\/(.*)$/.exec(url) ?? /^node:(.*)$/.exec(url);
  if (node) return `node:${node[1]}`;
  return url;
}

export interface AreaRow {
  key: string;
  usPerReq: number;
  share: number;
}

/** Self time of the profiles (idle apart) per request, by area and by function, largest first. */
export function areas(files: string[], requests: number): { busyUsPerReq: number; byArea: AreaRow[]; byFunction: AreaRow[] } {
  const area = new Map<string, number>();
  const fn = new Map<string, number>();
  let busy = 0;
  for (const file of files) {
    const p = readCpuProfile(file);
    const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    const last = p.samples.length - 2;
    p.samples.forEach((id, i) => {
      // A sample's delta is the time since the previous one: the time the current sample stands for. The first and
      // the last two stand for the profiler's own start and stop (the inspector's `dispatch`, at times for 100+ ms
      // of a loaded host's stall): left out.
      if (i === 0 || i >= last) return;
      const dt = p.timeDeltas[i] ?? 0;
      const f = byId.get(id)!;
      if (f.functionName === '(idle)') return;
      busy += dt;
      const a = areaOf(f.url, f.functionName);
      area.set(a, (area.get(a) ?? 0) + dt);
      const k = `${f.functionName || '(anonymous)'} ${f.url ? `${a}:${f.lineNumber + 1}` : ''}`.trim();
      fn.set(k, (fn.get(k) ?? 0) + dt);
    });
  }
  const rows = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([key, us]) => ({ key, usPerReq: us / Math.max(1, requests), share: us / Math.max(1, busy) }));
  return { busyUsPerReq: busy / Math.max(1, requests), byArea: rows(area), byFunction: rows(fn) };
}

export function formatAreas(title: string, r: ReturnType<typeof areas>, top = 25): string {
  const line = (x: AreaRow) => `  ${x.usPerReq.toFixed(2).padStart(7)} us  ${(100 * x.share).toFixed(1).padStart(5)} %  ${x.key}`;
  return [
    `${title}: ${r.busyUsPerReq.toFixed(1)} us busy per request (sampled)`,
    ' by area:',
    ...r.byArea.slice(0, top).map(line),
    ' by function:',
    ...r.byFunction.slice(0, top).map(line),
  ].join('\n');
}

// node dist/bench/gateway/phase-prof.js <requests> <file.cpuprofile>...: the same table for profiles at hand.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [n, ...files] = process.argv.slice(2);
  process.stdout.write(formatAreas(files.join(' '), areas(files, Number(n)), 40) + '\n');
}
