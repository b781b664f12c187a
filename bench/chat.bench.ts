/**
 * bench chat — room fan-out to WebSocket clients, gatehouse against a raw `ws` broadcast server (the baseline) and
 * the same chat on Colyseus and on Pomelo, all in one run on one machine:
 *   gatehouse embedded (`gatehouse start`, one process) · gatehouse 1 gateway + 2 workers over nats-server ·
 *   raw `ws` broadcast (bench/chat/raw-ws-server.ts) · Colyseus 0.18 · Pomelo 2.2.7 stock and tuned.
 * N clients (BENCH_CLIENTS, default 1000) sit in rooms of 10, 100 and 1000 members (BENCH_CHAT_ROOMS), opened from
 * four load processes; each room's members are spread over all four. Every client says a stamped 48-character line to
 * its room at a fixed rate chosen so that the offered load is the same for every room size: BENCH_CHAT_DELIVERIES
 * (default 8 k deliveries/s), i.e. per client D / (N × room size) lines/s. It is set below what the raw baseline
 * delivers on this machine with its load generators on the same two cores, so the baseline keeps up and a slower
 * system shows as fewer deliveries and a longer tail.
 *
 * Per system and room size, over 1 warm-up + 3 windows (BENCH_WINDOWS, BENCH_WINDOW_MS), interleaved so the
 * machine's drift falls on every system alike: deliveries/s (chat lines heard by clients per second of window; the
 * clients start sending 0.5 s before it, so the window sees the steady state), p99 send→receive latency (every
 * delivery in the window; stamps on the host's monotonic clock, see bench/chat/clock.ts), server CPU (all of the
 * system's server processes, nats-server included) per 1000 deliveries, over the whole run of the lines sent. After
 * each window the run waits until every line sent has been heard (or stops arriving) so no backlog spills into the
 * next window; deliveries still missing then are reported as lost.
 * Clients are opened once, into rooms of 10, and moved to the larger rooms (each system's own way: chat.switch, a
 * second join, Colyseus' leave and join). Filling a 1000-member room announces every arrival to everyone already in
 * it (about half a million onAdd pushes per system): that fill, not the measurement, is most of the run's time.
 *
 * Run: `npm run bench -- chat`. BENCH_CHAT_SYSTEMS=embedded,nats,raw,colyseus,pomelo-stock,pomelo-tuned picks some.
 * BENCH_CPU_PROF=<regex> profiles the gatehouse processes it matches (gatehouse-embedded, gatehouse-gw, gatehouse-w1,
 * gatehouse-w2) into .tmp/prof/ and writes the measured windows' times to .tmp/prof/chat-windows.json;
 * `node dist/bench/chat/prof-top.js <file> --windows .tmp/prof/chat-windows.json --system '<name>' [--size 10]`
 * lists their top frames by self time within those windows.
 * Every process is on loopback and stopped by PID (Pomelo by process group); the run is killed at 11 minutes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Histogram, hardDeadline, planFromEnv, runInterleaved, sleep, stats, type HistogramData } from './harness/measure.js';
import { startPeer, type Peer } from './harness/procs.js';
import { benchEnv, human, metric, printTable, writeResult, type Metric } from './harness/report.js';
import {
  startColyseus,
  startEmbedded,
  startNatsCluster,
  startPomeloChat,
  startRawWs,
  type ChatSystem,
} from './chat/systems.js';
import { monoMs } from './chat/clock.js';
import { repoRoot } from './harness/paths.js';

const plan = planFromEnv({ windows: 3, windowMs: 1500 });
const N = Number(process.env.BENCH_CLIENTS ?? 1000);
const ROOM_SIZES = (process.env.BENCH_CHAT_ROOMS ?? '10,100,1000').split(',').map(Number);
const OFFERED = Number(process.env.BENCH_CHAT_DELIVERIES ?? 8_000);
const LOADERS = 4;
/** Sending starts this long before each measured window, so the window sees the steady state. */
const LEAD_MS = Number(process.env.BENCH_CHAT_LEAD_MS ?? 500);
const LIFETIME_MS = 700_000;
const JOIN_TIMEOUT_MS = 400_000;
hardDeadline(660_000, 'bench chat');
const log = (s: string) => process.stderr.write(`[bench chat] ${s}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadSamples: number[] = [];
const VERBOSE = process.env.BENCH_CHAT_VERBOSE === '1';

const WANT = new Set((process.env.BENCH_CHAT_SYSTEMS ?? 'embedded,nats,raw,colyseus,pomelo-stock,pomelo-tuned').split(','));
const RAW = 'raw ws broadcast';

interface RunResult {
  sent: number;
  received: number;
  sendErrors: number;
  seconds: number;
  hist: HistogramData;
}
interface Window {
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPer1k: number;
  loadCpuMsPer1k: number;
  sent: number;
  sendErrors: number;
  drainMs: number;
  missing: number;
}

const servers: ChatSystem[] = [];
const loaders: Peer[] = [];

/** The commit measured, and whether the work tree had other changes in it (it is shared while others work). */
function gitState(): { commit: string; uncommitted_outside_bench: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot() }).toString().trim();
  try {
    return { commit: git('rev-parse', 'HEAD'), uncommitted_outside_bench: git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench') !== '' };
  } catch {
    return { commit: 'unknown', uncommitted_outside_bench: false };
  }
}

/**
 * Seats every member in rooms of `size` (member i on load process i mod 4, in room floor(i / size)): the first room
 * size opens the connections, later ones move the same clients on (chat.switch, a second join, Colyseus' leave and
 * join), so each system pays its connection set-up once.
 */
async function seatClients(sys: ChatSystem, size: number, first: boolean) {
  const t0 = performance.now();
  const per: Array<Array<[string, string]>> = Array.from({ length: LOADERS }, () => []);
  for (let i = 0; i < N; i++) per[i % LOADERS]!.push([`u${i}`, `s${size}-r${Math.floor(i / size)}`]);
  // Joins queue up one after another in each room; a few in flight per process and system keep every system busy
  // without piling a thousand joins onto one room at once.
  const rs = await Promise.all(
    loaders.map((l, k) =>
      l.call<{ failed: number; firstError: string }>(
        first ? 'open' : 'move',
        { system: sys.name, kind: sys.kind, url: sys.url, members: per[k], concurrency: 8 },
        JOIN_TIMEOUT_MS,
      ),
    ),
  );
  const failed = rs.reduce((s, r) => s + r.failed, 0);
  const why = rs.find((r) => r.firstError)?.firstError;
  log(`${sys.name}: ${N - failed} clients ${first ? 'in' : 'moved to'} rooms of ${size} in ${((performance.now() - t0) / 1000).toFixed(1)} s${failed ? `, ${failed} failed (${why})` : ''}`);
}

async function totals(sys: ChatSystem) {
  const cs = await Promise.all(loaders.map((l) => l.call<{ sent: number; received: number; sendErrors: number }>('counts', { system: sys.name })));
  return cs.reduce((a, c) => ({ sent: a.sent + c.sent, received: a.received + c.received, sendErrors: a.sendErrors + c.sendErrors }), { sent: 0, received: 0, sendErrors: 0 });
}

/** Counters of each system when its clients were last seated: deliveries expected since then are lines × room size. */
const phaseStart = new Map<string, { sent: number; received: number; sendErrors: number }>();

/** Waits until every line sent to `sys` in this room size has been heard by its whole room, or nothing has arrived for 2 s. */
async function drain(sys: ChatSystem, size: number, maxMs = 10_000) {
  const t0 = performance.now();
  const base = phaseStart.get(sys.name)!;
  let last = -1;
  let lastChange = t0;
  for (;;) {
    const t = await totals(sys);
    const expected = base.received + (t.sent - base.sent - (t.sendErrors - base.sendErrors)) * size;
    const now = performance.now();
    if (t.received >= expected) return { drainMs: now - t0, missing: 0 };
    if (t.received !== last) {
      last = t.received;
      lastChange = now;
    }
    if (now - lastChange > 2000 || now - t0 > maxMs) return { drainMs: now - t0, missing: expected - t.received };
    await sleep(25);
  }
}

/** Measured windows per system on the host's monotonic clock, so profiles can be cut to them (prof-top --windows). */
const windowTimes: Record<string, Array<[number, number, number]>> = {};

async function measureWindow(sys: ChatSystem, size: number, warmup: boolean): Promise<Window> {
  const rate = OFFERED / size / LOADERS; // lines/s per load process
  const before = await totals(sys);
  const l0 = await Promise.all(loaders.map((l) => l.call('cpu')));
  const cpu0 = sys.cpu();
  const w0 = monoMs() + LEAD_MS;
  const rs = (await Promise.all(loaders.map((l) => l.call<RunResult>('run', { system: sys.name, ms: plan.windowMs, rate, leadMs: LEAD_MS }, plan.windowMs + 60_000)))) as unknown as Array<RunResult & { cpuTotal: number }>;
  if (!warmup) (windowTimes[sys.name] ??= []).push([size, w0, monoMs()]);
  const d = await drain(sys, size);
  // CPU over the whole run (lead-in, window, drain) against every delivery of the lines sent in it: the work per
  // delivery, whatever part of it fell outside the window.
  const cpu1 = sys.cpu();
  const l1 = await Promise.all(loaders.map((l) => l.call('cpu')));
  const work = (await totals(sys)).received - before.received;
  const loadCpu = l1.reduce((s, l, i) => s + l.cpuTotal - l0[i]!.cpuTotal, 0);
  loadSamples.push(loadavg()[0]!);
  const hist = new Histogram();
  for (const r of rs) hist.merge(r.hist);
  const received = rs.reduce((s, r) => s + r.received, 0);
  const seconds = rs.reduce((s, r) => s + r.seconds, 0) / rs.length;
  if (VERBOSE) {
    const t = await totals(sys);
    log(`  ${sys.name} ${size}: sent ${rs.reduce((s, r) => s + r.sent, 0)} heard ${received} in ${seconds.toFixed(2)} s, p99 ${(hist.percentile(99) / 1000).toFixed(1)} ms; drained in ${d.drainMs.toFixed(0)} ms, ${d.missing} missing (total sent ${t.sent}, heard ${t.received})`);
  }
  return {
    deliveriesPerSec: received / seconds,
    p50Ms: hist.percentile(50) / 1000,
    p99Ms: hist.percentile(99) / 1000,
    cpuMsPer1k: work ? ((cpu1 - cpu0) * 1000 * 1000) / work : NaN,
    loadCpuMsPer1k: work ? (loadCpu * 1000 * 1000) / work : NaN,
    sent: rs.reduce((s, r) => s + r.sent, 0),
    sendErrors: rs.reduce((s, r) => s + r.sendErrors, 0),
    ...d,
  };
}

const metrics: Metric[] = [];
const rows: string[][] = [];
try {
  log(`${N} clients, rooms of ${ROOM_SIZES.join(', ')}; offered ${human(OFFERED)} deliveries/s; ${plan.warmups} warm-up + ${plan.windows} windows of ${plan.windowMs} ms; load average ${load()}`);
  const t0 = performance.now();
  loaders.push(...(await Promise.all(Array.from({ length: LOADERS }, (_, i) => startPeer(new URL('./chat/load-peer.js', import.meta.url), { name: `load${i}`, lifetimeMs: LIFETIME_MS, readyTimeoutMs: 60_000 })))));
  const starts: Array<[string, () => Promise<ChatSystem>]> = [
    ['raw', () => startRawWs(LIFETIME_MS)],
    ['embedded', () => startEmbedded()],
    ['nats', () => startNatsCluster()],
    ['colyseus', () => startColyseus(LIFETIME_MS)],
    ['pomelo-stock', () => startPomeloChat(false)],
    ['pomelo-tuned', () => startPomeloChat(true)],
  ];
  const started = await Promise.allSettled(starts.filter(([k]) => WANT.has(k)).map(([, f]) => f()));
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  const failedStarts = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failedStarts.length) throw new Error(`could not start: ${failedStarts.map((f) => String(f.reason?.message ?? f.reason)).join('; ')}`);
  log(`started ${servers.map((s) => `${s.name} [${s.pids.join(',')}]`).join('; ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${load()}`);

  for (const size of ROOM_SIZES) {
    const perClient = OFFERED / (N * size);
    // All systems fill their rooms at once: the joins of a 1000-member room cost about half a million onAdd pushes
    // per system, and one system alone often cannot use both cores (one room actor, one Colyseus process).
    const t1 = performance.now();
    await Promise.all(servers.map((sys) => seatClients(sys, size, size === ROOM_SIZES[0])));
    log(`rooms of ${size} filled in ${((performance.now() - t1) / 1000).toFixed(1)} s; load average ${load()}`);
    // Counting restarts here: deliveries expected from now on are this size's lines × this size.
    for (const sys of servers) phaseStart.set(sys.name, await totals(sys));
    const res = await runInterleaved(plan, Object.fromEntries(servers.map((s) => [s.name, ({ warmup }: { warmup: boolean }) => measureWindow(s, size, warmup)])));
    const lostOf = (name: string) => res[name]![res[name]!.length - 1]!.missing; // cumulative over the room size
    for (const sys of servers) {
      const errs = res[sys.name]!.reduce((s, w) => s + w.sendErrors, 0);
      if (lostOf(sys.name) || errs) log(`${sys.name}, rooms of ${size}: ${lostOf(sys.name)} deliveries missing after drain, ${errs} sends refused`);
    }

    const raw = res[RAW];
    const label = `${N} clients, rooms of ${size}, ${+perClient.toPrecision(3)} lines/s each`;
    const pick = (ws: Window[], f: (w: Window) => number) => ws.map(f);
    const best = { name: '', value: 0, runs: [] as number[] };
    for (const sys of servers) {
      const ws = res[sys.name]!;
      const gh = sys.kind === 'gatehouse';
      const isRaw = sys.name === RAW;
      const dRuns = pick(ws, (w) => w.deliveriesPerSec);
      const base = (f: (w: Window) => number) => (raw && !isRaw ? { name: RAW, runs: pick(raw, f) } : undefined);
      const dm = metric({ name: `deliveries/s — ${sys.name} — ${label}`, unit: '1/s', runs: dRuns, higherIsBetter: true, baseline: base((w) => w.deliveriesPerSec), ...(gh && raw ? { targetRatio: 0.5 } : {}) });
      const pm = metric({ name: `p99 send→receive — ${sys.name} — ${label}`, unit: 'ms', runs: pick(ws, (w) => w.p99Ms), higherIsBetter: false, baseline: base((w) => w.p99Ms) });
      const cm = metric({ name: `server CPU per 1k deliveries — ${sys.name} — ${label}`, unit: 'ms', runs: pick(ws, (w) => w.cpuMsPer1k), higherIsBetter: false, baseline: base((w) => w.cpuMsPer1k) });
      metrics.push(dm, pm, cm);
      if (!gh && !isRaw && dm.value > best.value) Object.assign(best, { name: sys.name, value: dm.value, runs: dRuns });
      const ds = stats(dRuns);
      rows.push([
        String(size),
        sys.name,
        `${human(ds.median)} (${human(ds.min)}–${human(ds.max)})`,
        `${human(stats(pick(ws, (w) => w.p50Ms)).median)} / ${human(pm.value)}`,
        isRaw ? '1.00×' : dm.ratio === null ? '—' : `${dm.ratio.toFixed(2)}×`,
        human(cm.value),
        human(stats(pick(ws, (w) => w.loadCpuMsPer1k)).median),
        String(lostOf(sys.name)),
      ]);
    }
    for (const sys of servers.filter((s) => s.kind === 'gatehouse')) {
      if (!best.name) break;
      metrics.push(
        metric({
          name: `deliveries/s vs the best peer (${best.name}) — ${sys.name} — ${label}`,
          unit: '1/s',
          runs: pick(res[sys.name]!, (w) => w.deliveriesPerSec),
          higherIsBetter: true,
          baseline: { name: best.name, runs: best.runs },
          targetRatio: 1,
        }),
      );
    }
    log(`rooms of ${size} done; load average ${load()}`);
  }

  const head = ['room', 'system', 'deliveries/s (min–max)', 'p50 / p99 ms', 'vs raw ws', 'server CPU ms / 1k', 'load-gen CPU ms / 1k', 'lost'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const la = stats(loadSamples);
  process.stdout.write(
    `\nbench chat — ${N} clients, offered ${human(OFFERED)} deliveries/s per room size; medians of ${plan.windows} windows of ${plan.windowMs} ms; ` +
      `load average (1 min) ${la.median.toFixed(1)} (${la.min.toFixed(1)}–${la.max.toFixed(1)})\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  );
  printTable('bench chat — gatehouse against its targets', metrics.filter((m) => m.target_ratio != null));
  const env = { ...benchEnv(), ...gitState(), load_average: { median: +la.median.toFixed(2), min: +la.min.toFixed(2), max: +la.max.toFixed(2) }, clients: N, offered_deliveries_per_s: OFFERED };
  if (process.env.BENCH_CPU_PROF) mkdirSync(join(repoRoot(), '.tmp', 'prof'), { recursive: true });
  if (process.env.BENCH_CPU_PROF) writeFileSync(join(repoRoot(), '.tmp', 'prof', 'chat-windows.json'), JSON.stringify(windowTimes));
  log(`wrote ${writeResult('chat', metrics, env)} in ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  // Load processes first, at once: closing a thousand clients politely would make every server announce a thousand
  // departures to everyone still in the room, and a Colyseus client whose server goes first tries to reconnect.
  await Promise.allSettled(loaders.map((l) => l.kill()));
  await Promise.allSettled(servers.map((s) => s.stop()));
}
process.exit();
