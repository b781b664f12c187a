/**
 * bench chat — capacity of room fan-out to WebSocket clients: gatehouse against a raw `ws` broadcast server (the
 * floor) and the same chat on Colyseus and Pomelo, all in one run on one machine:
 *   gatehouse embedded (`gatehouse start`, one process) · gatehouse 1 gateway + 2 workers over nats-server ·
 *   raw `ws` broadcast (bench/chat/raw-ws-server.ts) · Colyseus 0.18 · Pomelo 2.2.7 tuned (and stock, on request).
 * N clients (BENCH_CLIENTS, default 1000) sit in rooms of 10 and of 100 members (BENCH_CHAT_ROOMS), opened from four
 * load processes; each room's members are spread over all four. Every client says a stamped 48-character line to its
 * room; the offered load (deliveries/s = lines/s × room size) is spread evenly over the clients.
 *
 * Capacity, per room size and system: the offered load ramps (bench/chat/ramp.ts: from BENCH_CHAT_RAMP_START, ×
 * BENCH_CHAT_RAMP_FACTOR per step, a failing window tried once more, one refining step after the first failure) until
 * a window's p99 send→receive passes 100 ms or fewer than 95 % of the offered deliveries arrive in it. Ramp steps of
 * every system are interleaved (one window each, in turn), so the host's drift falls on all alike. The highest passing load is then held for 3
 * interleaved windows: the median deliveries/s there is the system's sustained capacity (if those windows fail, one
 * step lower is held instead). Then 3 interleaved windows at half of each system's own capacity give p50/p99 and
 * server CPU per delivery (all of the system's server processes, nats-server included, over lead-in, window and drain,
 * against every delivery of the lines sent). Ratios are to Colyseus, measured in the same run. Last, 3 windows of
 * every other system at Colyseus's half capacity give p99 and CPU at the same offered load (reported, no target).
 *
 * A window: clients send for BENCH_CHAT_LEAD_MS (400) + BENCH_WINDOW_MS (1200); only the last part is measured, then
 * the run waits until every line sent was heard (or nothing arrives for 2 s) so no backlog spills into the next
 * window; deliveries still missing then are reported as lost. Clients are opened once, into the first room size, and
 * moved (chat.switch, a second join, Colyseus' leave and join).
 *
 * Run: `npm run bench -- chat`. BENCH_CHAT_SYSTEMS=embedded,nats,raw,colyseus,pomelo-tuned,pomelo-stock picks some;
 * `embedded-alt` with BENCH_CHAT_ALT_CLI=<other work tree>/dist/bin/gatehouse.js (and BENCH_CHAT_ALT_LABEL) runs a
 * second embedded build beside this one, to measure one change against its before in the same run.
 * `embedded-threads` runs `gatehouse start --threads BENCH_CHAT_THREADS` (default 2): embedded mode on every core.
 * BENCH_CHAT_NATS_VARIANTS=-1,0,5 replaces `nats` by one NATS cluster per `actors.pushTickMs` value (push batching),
 * each named after its value, to compare them in the same run; without it `nats` runs the config default.
 * BENCH_CHAT_EMBEDDED_VARIANTS does the same for `embedded`. BENCH_CHAT_AT=<deliveries/s> skips the ramp and holds
 * every system at that one load (BENCH_WINDOWS windows, interleaved): CPU per delivery and p99 at the same rate, for
 * variants whose difference depends on the rate (push batching); the capacity column then shows that load's rate.
 * Colyseus and Pomelo come from bench/peers (installed there on first use). BENCH_CPU_PROF=<regex> profiles the
 * gatehouse processes it matches (gatehouse-embedded, -gw, -w1, -w2) into .tmp/prof/ and writes the measured windows'
 * times to .tmp/prof/chat-windows.json (`node dist/bench/chat/prof-top.js <file> --windows … --system '<name>'`).
 * Every process is on loopback and stopped by PID (Pomelo by process group); the run is killed at 15 minutes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { hardDeadline, runInterleaved, sleep, stats } from './harness/measure.js';
import { startPeer, type Peer } from './harness/procs.js';
import { benchEnv, human, metric, printTable, writeResult, type Metric } from './harness/report.js';
import { describeHopCost, measureHopCost, type HopCost } from './harness/hop-cost.js';
import { NATS_SYSTEM, startColyseus, startEmbedded, startEmbeddedThreads, startNatsCluster, startPomeloChat, startRawWs, type ChatSystem } from './chat/systems.js';
import { monoMs } from './chat/clock.js';
import { advance, initialRamp, passes, type RampConfig, type RampState } from './chat/ramp.js';
import { type Window, type WindowRun, windowOf } from './chat/window.js';
import { ensurePeers } from './peers/resolve.js';
import { repoRoot } from './harness/paths.js';

const N = Number(process.env.BENCH_CLIENTS ?? 1000);
const ROOM_SIZES = (process.env.BENCH_CHAT_ROOMS ?? '10,100').split(',').map(Number);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1200);
const LEAD_MS = Number(process.env.BENCH_CHAT_LEAD_MS ?? 400);
const HOLD_WINDOWS = Math.max(3, Number(process.env.BENCH_WINDOWS ?? 3));
const RAMP: RampConfig = {
  start: Number(process.env.BENCH_CHAT_RAMP_START ?? 8000),
  factor: Number(process.env.BENCH_CHAT_RAMP_FACTOR ?? 1.35),
  max: Number(process.env.BENCH_CHAT_RAMP_MAX ?? 400_000),
  floor: 500,
  p99LimitMs: 100,
  minDelivered: 0.95,
  maxSteps: 16,
};
const LOADERS = 4;
const LIFETIME_MS = 950_000;
const JOIN_TIMEOUT_MS = 300_000;
hardDeadline(900_000, 'bench chat');
const log = (s: string) => process.stderr.write(`[bench chat] ${s}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadSamples: number[] = [];
const VERBOSE = process.env.BENCH_CHAT_VERBOSE === '1';

const WANT = new Set((process.env.BENCH_CHAT_SYSTEMS ?? 'embedded,nats,raw,colyseus,pomelo-tuned').split(','));
const RAW = 'raw ws broadcast';
const COLYSEUS = 'Colyseus 0.18';
/** Same-run targets against Colyseus (issue 16): capacity ratio (min), CPU per delivery and p99 at half (max). */
const TARGETS: Record<string, { capacity: number; cpu?: number; p99: number }> = {
  'gatehouse embedded': { capacity: 1.2, cpu: 1.0, p99: 1.5 },
  [NATS_SYSTEM]: { capacity: 1.0, p99: 1.5 },
};
/** A variant (`gatehouse embedded (pushTickMs 5)`, `… (NATS, pushTickMs 5)`) has its system's targets. */
const targetOf = (name: string) =>
  TARGETS[name] ?? TARGETS[name.replace(/ \(pushTickMs -?\d+\)$/, '')] ?? TARGETS[name.replace(/, pushTickMs -?\d+\)$/, ')')];
/** `actors.pushTickMs` values to run a system with, one instance each (empty: one instance, the config default). */
const variants = (key: string) =>
  (process.env[key] ?? '')
    .split(',')
    .filter((v) => v.trim() !== '')
    .map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw new Error(`${key}: ${v} is not a pushTickMs (-1, 0 or ms)`);
      return n;
    });
const NATS_VARIANTS = variants('BENCH_CHAT_NATS_VARIANTS');
const FIXED_LOAD = process.env.BENCH_CHAT_AT ? Number(process.env.BENCH_CHAT_AT) : undefined;
const EMBEDDED_VARIANTS = variants('BENCH_CHAT_EMBEDDED_VARIANTS');

const servers: ChatSystem[] = [];
let hop: HopCost | undefined;
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

/** Seats member i (load process i mod 4) in room floor(i / size): opens connections the first time, moves them after. */
async function seatClients(sys: ChatSystem, size: number, first: boolean) {
  const t0 = performance.now();
  const per: Array<Array<[string, string]>> = Array.from({ length: LOADERS }, () => []);
  for (let i = 0; i < N; i++) per[i % LOADERS]!.push([`u${i}`, `s${size}-r${Math.floor(i / size)}`]);
  const rs = await Promise.all(
    loaders.map((l, k) =>
      l.call<{ failed: number; failedItems: Array<[string, string]>; firstError: string }>(first ? 'open' : 'move', { system: sys.name, kind: sys.kind, url: sys.url, members: per[k], concurrency: 8 }, JOIN_TIMEOUT_MS),
    ),
  );
  const failed = rs.reduce((s, r) => s + r.failed, 0);
  // Members that could not be seated neither send nor hear: a line reaches the members its room really has. Senders
  // take turns evenly, so deliveries per line are sum(n²) / sum(n) over the rooms' seated counts.
  const seated = new Map<string, number>();
  for (let i = 0; i < N; i++) seated.set(`s${size}-r${Math.floor(i / size)}`, (seated.get(`s${size}-r${Math.floor(i / size)}`) ?? 0) + 1);
  for (const r of rs) for (const [, room] of r.failedItems) seated.set(room, seated.get(room)! - 1);
  const ns = [...seated.values()];
  fanout.set(sys.name, ns.reduce((s, n) => s + n * n, 0) / Math.max(1, ns.reduce((s, n) => s + n, 0)));
  const why = rs.find((r) => r.firstError)?.firstError;
  log(`${sys.name}: ${N - failed} clients ${first ? 'in' : 'moved to'} rooms of ${size} in ${((performance.now() - t0) / 1000).toFixed(1)} s${failed ? `, ${failed} failed (${why})` : ''}`);
}

type Counts = { sent: number; received: number; sendErrors: number };
async function totals(sys: ChatSystem): Promise<Counts> {
  const cs = await Promise.all(loaders.map((l) => l.call<Counts>('counts', { system: sys.name })));
  return cs.reduce((a, c) => ({ sent: a.sent + c.sent, received: a.received + c.received, sendErrors: a.sendErrors + c.sendErrors }), { sent: 0, received: 0, sendErrors: 0 });
}

/** Counters of each system when its clients were last seated: deliveries expected since then are lines × fan-out. */
const phaseStart = new Map<string, Counts>();
/** Deliveries per line sent, per system: the room size, less members that could not be seated (seatClients). */
const fanout = new Map<string, number>();

/** Waits until every line sent to `sys` in this room size has been heard by its whole room, or nothing has arrived for 2 s. */
async function drain(sys: ChatSystem, maxMs = 10_000) {
  const t0 = performance.now();
  const base = phaseStart.get(sys.name)!;
  let last = -1;
  let lastChange = t0;
  for (;;) {
    const t = await totals(sys);
    const expected = base.received + (t.sent - base.sent - (t.sendErrors - base.sendErrors)) * fanout.get(sys.name)!;
    const now = performance.now();
    if (t.received >= expected - 0.5) return { drainMs: now - t0, missing: 0 };
    if (t.received !== last) [last, lastChange] = [t.received, now];
    if (now - lastChange > 2000 || now - t0 > maxMs) return { drainMs: now - t0, missing: Math.round(expected - t.received) };
    await sleep(25);
  }
}

/** Measured windows per system on the host's monotonic clock, so profiles can be cut to them (prof-top --windows). */
const windowTimes: Record<string, Array<[number, number, number]>> = {};

/** One window of `sys` at `offered` deliveries/s in rooms of `size`. */
async function measureWindow(sys: ChatSystem, size: number, offered: number): Promise<Window> {
  const rate = offered / fanout.get(sys.name)! / LOADERS; // lines/s per load process
  const before = await totals(sys);
  const l0 = await Promise.all(loaders.map((l) => l.call('cpu')));
  const cpu0 = sys.cpu();
  const w0 = monoMs() + LEAD_MS;
  const rs = await Promise.all(loaders.map((l) => l.call<WindowRun>('run', { system: sys.name, ms: WINDOW_MS, rate, leadMs: LEAD_MS }, WINDOW_MS + 60_000)));
  (windowTimes[sys.name] ??= []).push([size, w0, monoMs()]);
  const d = await drain(sys);
  const cpu1 = sys.cpu();
  const l1 = await Promise.all(loaders.map((l) => l.call('cpu')));
  const work = (await totals(sys)).received - before.received;
  loadSamples.push(loadavg()[0]!);
  const w = windowOf(offered, rs, { serverCpuS: cpu1 - cpu0, loadCpuS: l1.reduce((s, l, i) => s + l.cpuTotal - l0[i]!.cpuTotal, 0), work, ...d });
  if (VERBOSE) log(`  ${sys.name} ${size} @ ${human(offered)}/s: ${human(w.deliveriesPerSec)}/s p99 ${w.p99Ms.toFixed(1)} ms, ${w.cpuUsPerDelivery.toFixed(1)} µs/delivery; drained in ${d.drainMs.toFixed(0)} ms, ${d.missing} missing`);
  return w;
}

const step = (w: Window) => ({ offered: w.offered, deliveriesPerSec: w.deliveriesPerSec, p99Ms: w.p99Ms });
const heldPasses = (ws: Window[]) => passes(RAMP, { offered: ws[0]!.offered, deliveriesPerSec: stats(ws.map((w) => w.deliveriesPerSec)).median, p99Ms: stats(ws.map((w) => w.p99Ms)).median });

/** Windows of several systems at each one's own load, `rounds` times, interleaved in rotating order. */
async function hold(systems: ChatSystem[], size: number, offeredOf: (name: string) => number, rounds: number) {
  const plan = { warmups: 0, windows: rounds };
  return runInterleaved(plan, Object.fromEntries(systems.map((s) => [s.name, () => measureWindow(s, size, offeredOf(s.name))])));
}

interface SizeResult {
  size: number;
  ramps: Record<string, RampState>;
  held: Record<string, Window[]>;
  half: Record<string, Window[]>;
  /** Every other system at Colyseus's half capacity: p99 and CPU at the same offered load as Colyseus's own half. */
  sameLoad?: Record<string, Window[]>;
}

async function capacityAt(size: number): Promise<SizeResult> {
  // One discarded window per system first (JIT, buffers, the server's first fan-outs), then the ramp: every system
  // still searching gets one window per round, in rotating order.
  for (const s of servers) await measureWindow(s, size, RAMP.start / 2);
  if (FIXED_LOAD) {
    const held = await hold(servers, size, () => FIXED_LOAD, HOLD_WINDOWS);
    const none = Object.fromEntries(servers.map((s) => [s.name, { ...initialRamp(RAMP), next: undefined, steps: [] }]));
    return { size, ramps: none, held, half: held };
  }
  const ramps: Record<string, RampState> = Object.fromEntries(servers.map((s) => [s.name, initialRamp(RAMP)]));
  for (let round = 0; ; round++) {
    const active = servers.filter((s) => ramps[s.name]!.next !== undefined);
    if (!active.length) break;
    for (let k = 0; k < active.length; k++) {
      const sys = active[(k + round) % active.length]!;
      const w = await measureWindow(sys, size, ramps[sys.name]!.next!);
      ramps[sys.name] = advance(RAMP, ramps[sys.name]!, step(w));
    }
  }
  for (const s of servers) log(`${s.name}, rooms of ${size}: ramp ${ramps[s.name]!.steps.map((x) => `${human(x.offered)}→${human(x.deliveriesPerSec)} p99 ${x.p99Ms.toFixed(0)}${x.pass ? '' : ' ✗'}`).join(', ')}`);
  // Hold the highest passing load; a system whose held windows fail gets one step lower, held again.
  const level: Record<string, number> = Object.fromEntries(servers.map((s) => [s.name, ramps[s.name]!.lastPass?.offered ?? RAMP.floor]));
  const held = await hold(servers, size, (n) => level[n]!, HOLD_WINDOWS);
  const retry = servers.filter((s) => !heldPasses(held[s.name]!));
  if (retry.length) {
    for (const s of retry) level[s.name] = level[s.name]! / Math.sqrt(RAMP.factor);
    log(`not sustained at the ramp's level, held one step lower: ${retry.map((s) => s.name).join(', ')}`);
    Object.assign(held, await hold(retry, size, (n) => level[n]!, HOLD_WINDOWS));
  }
  const capacity = (n: string) => stats(held[n]!.map((w) => w.deliveriesPerSec)).median;
  const half = await hold(servers, size, (n) => capacity(n) / 2, HOLD_WINDOWS);
  // At half of its own capacity a system with twice Colyseus's capacity is measured at Colyseus's full load, on a host
  // whose two cores the load generators share: its p99 there says as much about the host as about the server. The
  // same windows at Colyseus's half capacity compare the servers at one load.
  const others = servers.filter((s) => s.name !== COLYSEUS);
  const sameLoad = held[COLYSEUS] && others.length ? await hold(others, size, () => capacity(COLYSEUS) / 2, HOLD_WINDOWS) : undefined;
  return { size, ramps, held, half, ...(sameLoad && { sameLoad }) };
}

const metrics: Metric[] = [];
const rows: string[][] = [];
const median = (ws: Window[], f: (w: Window) => number) => stats(ws.map(f)).median;
function report(r: SizeResult) {
  const label = `rooms of ${r.size}, ${N} clients`;
  const col = r.held[COLYSEUS];
  const raw = r.held[RAW];
  for (const sys of servers) {
    const n = sys.name;
    const t = targetOf(n);
    const base = (res: Record<string, Window[]>, f: (w: Window) => number) => (col && n !== COLYSEUS ? { baseline: { name: COLYSEUS, runs: res[COLYSEUS]!.map(f) } } : {});
    const cap = metric({ name: `capacity (deliveries/s, p99 ≤ 100 ms, ≥ 95 % delivered) — ${n} — ${label}`, unit: '1/s', runs: r.held[n]!.map((w) => w.deliveriesPerSec), higherIsBetter: true, ...base(r.held, (w) => w.deliveriesPerSec), ...(t && col ? { targetRatio: t.capacity } : {}) });
    const cpu = metric({ name: `server CPU per delivery at half capacity — ${n} — ${label}`, unit: 'µs', runs: r.half[n]!.map((w) => w.cpuUsPerDelivery), higherIsBetter: false, ...base(r.half, (w) => w.cpuUsPerDelivery), ...(t?.cpu && col ? { targetRatio: t.cpu } : {}) });
    const p99 = metric({ name: `p99 send→receive at half capacity — ${n} — ${label}`, unit: 'ms', runs: r.half[n]!.map((w) => w.p99Ms), higherIsBetter: false, ...base(r.half, (w) => w.p99Ms), ...(t && col ? { targetRatio: t.p99 } : {}) });
    metrics.push(cap, cpu, p99);
    const same = r.sameLoad?.[n];
    if (same && col) {
      const colHalf = { baseline: { name: COLYSEUS, runs: r.half[COLYSEUS]!.map((w) => w.p99Ms) } };
      metrics.push(
        metric({ name: `p99 send→receive at Colyseus's half capacity (same load) — ${n} — ${label}`, unit: 'ms', runs: same.map((w) => w.p99Ms), higherIsBetter: false, ...colHalf }),
        metric({ name: `server CPU per delivery at Colyseus's half capacity (same load) — ${n} — ${label}`, unit: 'µs', runs: same.map((w) => w.cpuUsPerDelivery), higherIsBetter: false, baseline: { name: COLYSEUS, runs: r.half[COLYSEUS]!.map((w) => w.cpuUsPerDelivery) } }),
      );
      log(`${n}, rooms of ${r.size}, at Colyseus's half capacity: p50 / p99 ${human(median(same, (w) => w.p50Ms))} / ${human(median(same, (w) => w.p99Ms))} ms, CPU ${human(median(same, (w) => w.cpuUsPerDelivery))} µs per delivery`);
    }
    const capS = stats(r.held[n]!.map((w) => w.deliveriesPerSec));
    const ratio = (b: Window[] | undefined) => (b ? `${(capS.median / median(b, (w) => w.deliveriesPerSec)).toFixed(2)}×` : '—');
    rows.push([
      String(r.size),
      n,
      `${human(capS.median)} (${human(capS.min)}–${human(capS.max)})${heldPasses(r.held[n]!) ? '' : ' ✗'}`,
      ratio(col),
      ratio(raw),
      `${human(median(r.half[n]!, (w) => w.p50Ms))} / ${human(p99.value)}`,
      human(cpu.value),
      human(median(r.half[n]!, (w) => w.loadCpuUsPerDelivery)),
      String(r.ramps[n]!.steps.length),
      // `missing` counts from the seating of this room size on, so the last window's figure is the phase's loss.
      String(r.half[n]!.at(-1)!.missing),
    ]);
  }
}

try {
  log(`${N} clients, rooms of ${ROOM_SIZES.join(', ')}; ramp from ${human(RAMP.start)} ×${RAMP.factor}, windows ${LEAD_MS}+${WINDOW_MS} ms, hold ${HOLD_WINDOWS}; load average ${load()}`);
  const t0 = performance.now();
  // The host first, while nothing else runs: what one message between two processes costs here (see hop-cost.ts).
  hop = await measureHopCost();
  log(describeHopCost(hop));
  if (WANT.has('colyseus') || WANT.has('pomelo-tuned') || WANT.has('pomelo-stock')) ensurePeers(log);
  if (WANT.has('embedded-alt') && !process.env.BENCH_CHAT_ALT_CLI) throw new Error('embedded-alt needs BENCH_CHAT_ALT_CLI (another build\'s dist/bin/gatehouse.js)');
  loaders.push(...(await Promise.all(Array.from({ length: LOADERS }, (_, i) => startPeer(new URL('./chat/load-peer.js', import.meta.url), { name: `load${i}`, lifetimeMs: LIFETIME_MS, readyTimeoutMs: 60_000 })))));
  const starts: Array<[string, () => Promise<ChatSystem>]> = [
    ['raw', () => startRawWs(LIFETIME_MS)],
    ...(EMBEDDED_VARIANTS.length
      ? EMBEDDED_VARIANTS.map((v): [string, () => Promise<ChatSystem>] => ['embedded', () => startEmbedded(undefined, { pushTickMs: v })])
      : [['embedded', () => startEmbedded()] as [string, () => Promise<ChatSystem>]]),
    ['embedded-alt', () => startEmbedded({ cli: process.env.BENCH_CHAT_ALT_CLI ?? '', label: process.env.BENCH_CHAT_ALT_LABEL ?? 'alt build' })],
    ['embedded-threads', () => startEmbeddedThreads(Number(process.env.BENCH_CHAT_THREADS ?? 2))],
    ...(NATS_VARIANTS.length
      ? NATS_VARIANTS.map((v): [string, () => Promise<ChatSystem>] => ['nats', () => startNatsCluster({ pushTickMs: v })])
      : [['nats', () => startNatsCluster()] as [string, () => Promise<ChatSystem>]]),
    ['colyseus', () => startColyseus(LIFETIME_MS)],
    ['pomelo-tuned', () => startPomeloChat(true)],
    ['pomelo-stock', () => startPomeloChat(false)],
  ];
  const started = await Promise.allSettled(starts.filter(([k]) => WANT.has(k)).map(([, f]) => f()));
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  const failedStarts = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failedStarts.length) throw new Error(`could not start: ${failedStarts.map((f) => String(f.reason?.message ?? f.reason)).join('; ')}`);
  log(`started ${servers.map((s) => `${s.name} [${s.pids.join(',')}]`).join('; ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${load()}`);

  const ramps: Record<string, unknown> = {};
  for (const size of ROOM_SIZES) {
    const t1 = performance.now();
    await Promise.all(servers.map((sys) => seatClients(sys, size, size === ROOM_SIZES[0])));
    log(`rooms of ${size} filled in ${((performance.now() - t1) / 1000).toFixed(1)} s; load average ${load()}`);
    for (const sys of servers) phaseStart.set(sys.name, await totals(sys));
    const r = await capacityAt(size);
    report(r);
    ramps[`rooms of ${size}`] = Object.fromEntries(servers.map((s) => [s.name, r.ramps[s.name]!.steps.map((x) => [Math.round(x.offered), Math.round(x.deliveriesPerSec), +x.p99Ms.toFixed(1), x.pass])]));
    log(`rooms of ${size} done in ${((performance.now() - t1) / 1000).toFixed(0)} s; load average ${load()}`);
  }

  const head = ['room', 'system', 'capacity deliveries/s (min–max)', 'vs Colyseus', 'vs raw ws', 'p50 / p99 ms at ½', 'server CPU µs/delivery at ½', 'load-gen µs/delivery', 'ramp steps', 'lost'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const la = stats(loadSamples);
  process.stdout.write(
    `\nbench chat — capacity, ${N} clients; held ${HOLD_WINDOWS} windows of ${WINDOW_MS} ms; load average (1 min) ${la.median.toFixed(1)} (${la.min.toFixed(1)}–${la.max.toFixed(1)})\n` +
      `${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  );
  printTable('bench chat — gatehouse against its targets (same-run ratios to Colyseus)', metrics.filter((m) => m.target_ratio != null));
  const env = { ...benchEnv(), ...gitState(), host_hop_cost_us: hop, load_average: { median: +la.median.toFixed(2), min: +la.min.toFixed(2), max: +la.max.toFixed(2) }, clients: N, ramp: { ...RAMP, window_ms: WINDOW_MS, lead_ms: LEAD_MS, steps: ramps } };
  if (process.env.BENCH_CPU_PROF) {
    mkdirSync(join(repoRoot(), '.tmp', 'prof'), { recursive: true });
    writeFileSync(join(repoRoot(), '.tmp', 'prof', 'chat-windows.json'), JSON.stringify(windowTimes));
  }
  log(`wrote ${writeResult('chat', metrics, env)} in ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  // Load processes first, at once: closing a thousand clients politely would make every server announce a thousand
  // departures to everyone still in the room, and a Colyseus client whose server goes first tries to reconnect.
  // A profiled load process is stopped instead, so it writes its profile on the way out.
  await Promise.allSettled(loaders.map((l) => (process.env.BENCH_CPU_PROF ? l.stop() : l.kill())));
  await Promise.allSettled(servers.map((s) => s.stop()));
}
process.exit();
