/**
 * bench lobby — the lobby under a crowd, everything on one machine: nats-server (JetStream), one gateway process and
 * two worker processes (`gatehouse node`), players on real WebSocket connections in load processes (bench/lobby/).
 * BENCH_LOBBY_SYSTEM=threads runs the same lobby as one process instead (`gatehouse start --threads 2 --roles gateway`:
 * two worker threads on the in-process thread bus, LMDB; bench/lobby/cluster.ts), with no search phase, and writes
 * results/lobby-threads.json: what the process hops of the NATS shape cost, in the same bench.
 *   1. 600 bots, then 2 000 (lobby/bot.ts), spread over the servers, wander, chat, form circles and relay positions at 2 Hz:
 *      relay latency p50/p99 (sender → gateway → city actor → gateway → the others in the city), relays delivered
 *      per second, and server-side CPU (gateway + workers + nats-server) per second per 1 000 players.
 *   2. 10 000 players online, the bots relaying and then with relays paused: player search p99 (`lobby.search.players`: fan-out over the
 *      index shards; target ≤ 20 ms), next to a one-actor request (`lobby.whoami`) measured in the same run as the
 *      baseline. The 8 000 beyond the bots are put straight into the search index (what a player record sends it at
 *      login) unless BENCH_IDLE_LOGIN=1 logs them in over the gateway: on a shared 2-core machine those 8 000 logins
 *      (about ten durable writes each) take minutes and measure login, not search; the index cannot tell the two
 *      apart, and the query path measured is the same.
 *   3. The floor, same run (bench/lobby/floor.ts): a raw `ws` relay server in one process with relay-only bots at 2 Hz
 *      in cities of the gatehouse run's own mean size (so both make the same deliveries per relay), while the
 *      gatehouse bots pause: server CPU per relay at LOW bots (gatehouse's all-in figure is compared with it), then
 *      bots added step by step (BENCH_FLOOR_STEPS) until relay p99 passes 50 ms.
 *   4. Capacity: gatehouse's bots go LOW → BENCH_LOBBY_STEPS → WANTED, relay windows at each; its capacity is the most
 *      bots with relay p99 ≤ 50 ms (a lower bound when the last step still passes), next to the floor's.
 * Run: `npm run bench -- lobby` (BENCH_BOTS, BENCH_BOTS_LOW, BENCH_LOBBY_STEPS, BENCH_FLOOR_STEPS, BENCH_IDLE,
 * BENCH_IDLE_LOGIN, BENCH_WINDOWS, BENCH_WINDOW_MS). Killed at 16 minutes.
 * Where the CPU goes (issue 16): BENCH_LOBBY_LOW_ONLY=1 measures LOW bots only, relay windows interleaved with windows
 * of the same bots with their relays paused (what a bot costs apart from its relays), and ends (no floor, ramp or
 * search; workers may take over 10 s to stop, so take their profiles with `--prof --logfile=…-%p.log`, which needs
 * no clean exit);
 * BENCH_CHANNEL_TICK_MS=<ms> sets the gateway's channel tick (gateway.channelTickMs: relays for other gateways gathered
 * into one bus write per tick);
 * BENCH_SEARCH_SHARDS=<n> sets the player index's shard count (lobby.searchShards);
 * BENCH_LOBBY_FANOUT=0 runs the nodes without lobby.relayFanout (relays through the layer actors on the workers; the
 * default, as in the product, fans them out on the gateways' layer channels, no worker hop);
 * BENCH_COUNT_SUBJECTS=1 counts every message on the nats-server by subject pattern during the LOW windows
 * (bench/lobby/subject-count.ts; its subscription adds nats-server CPU); the LOW windows' times on the host's
 * monotonic clock go to .tmp/prof/lobby-windows.json, for `prof-top --windows … --system lobby` on profiles taken
 * with GH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=…";
 * BENCH_KEEP_CPUS_AWAKE=1 runs idle-priority busy loops on every core (harness/awake.ts), so that no message wakes an
 * idle CPU: a diagnostic of how much of a figure is the host's wake-ups, never a result to compare with a plain run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { LOBBY_DEFAULTS } from '../lobby/config.js';
import { eventually } from '../dev/wait.js';
import { Histogram, hardDeadline, planFromEnv, runInterleaved, sleep, stats, type HistogramData } from './harness/measure.js';
import { startPeer, stopAll, type Peer } from './harness/procs.js';
import { benchEnv, metric, printTable, writeResult, type Metric } from './harness/report.js';
import { runFloor, type FloorStep } from './lobby/floor.js';
import { SubjectCounter } from './lobby/subject-count.js';
import { lobbySystemFromEnv, startLobbyCluster, type LobbyCluster } from './lobby/cluster.js';
import { searchPhase } from './lobby/search-phase.js';
import { describeHopCost, measureHopCost, type HopCost } from './harness/hop-cost.js';
import { keepCpusAwake, type Awake } from './harness/awake.js';

const WANTED = Number(process.env.BENCH_BOTS ?? 2000);
/** The first, smaller crowd measured on the way to WANTED. */
const LOW = Number(process.env.BENCH_BOTS_LOW ?? 600);
/** How long bots may take to log in and start; the run goes on with those that did (the table says how many). */
const START_BUDGET_MS = Number(process.env.BENCH_START_S ?? 240) * 1000;
const IDLE = Number(process.env.BENCH_IDLE ?? 8000);
const plan = planFromEnv({ windows: 5, windowMs: 4000 });
const PREFIX = 'lobbybench';
const SHARDS = 64;
/** Bot counts between LOW and WANTED at which gatehouse's relays are measured on the way (the capacity ramp). */
const STEPS = (process.env.BENCH_LOBBY_STEPS ?? '1000,1400').split(',').map(Number).filter((n) => n > LOW && n < WANTED);
const FLOOR_STEPS = (process.env.BENCH_FLOOR_STEPS ?? '1000,1500,2000,3000,4000,6000').split(',').map(Number).filter((n) => n > LOW);
/** Capacity bound: the most bots whose relays keep p99 within this (issue 16). */
const CAPACITY_P99_MS = 50;
hardDeadline(960_000, 'bench lobby');
const log = (s: string) => process.stderr.write(`[bench lobby] ${s}\n`);
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
// Failure detection after 4 s rather than the product's 1.5 s: at 2 000 bots the bench saturates both cores, bots
// included, which a deployment would not. The balancer's interval and the lifecycle feed are the product's (2 s, off):
// startNodeProcess's test flags (a 200 ms balancer, the feed on) made the idle cluster cost ~20 % more.
// Layers' refresh at 5 minutes: index entries put directly (see above) must not age out during the run.
// Relays fanned out by the gateway on per-layer channels, not through the layer actors (lobby.relayFanout, the
// product default; lobby/relay-channels.ts); BENCH_LOBBY_FANOUT=0: through the layer actors. Same build, A/B in two runs.
const FANOUT = process.env.BENCH_LOBBY_FANOUT !== '0';
// BENCH_SEARCH_SHARDS: the player index's shard count (lobby.searchShards) for this run; unset, the product default.
const SEARCH_SHARDS = Number(process.env.BENCH_SEARCH_SHARDS ?? LOBBY_DEFAULTS.searchShards);
const FLAGS = ['--set', `lobby.searchShards=${SEARCH_SHARDS}`, '--set', 'cluster.deadAfterMs=4000', '--set', 'cluster.heartbeatMs=250', '--set', 'cluster.rebalanceIntervalMs=2000', '--set', 'actors.lifecycleEvents=false', '--set', `actors.shards=${SHARDS}`, '--set', 'lobby.refreshMs=300000', '--set', `lobby.relayFanout=${FANOUT}`];
// BENCH_CHANNEL_TICK_MS: the gateway's channel tick (gateway.channelTickMs) for this run; unset, the product default.
const TICK = process.env.BENCH_CHANNEL_TICK_MS;
const GATEWAY = [
  ...['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]),
  ...['gateway.requestsPerSecond=100', 'gateway.requestBurst=200', ...(TICK === undefined ? [] : [`gateway.channelTickMs=${Number(TICK)}`])].flatMap((kv) => ['--set', kv]),
];

/** Thrown to end a BENCH_LOBBY_LOW_ONLY run after its LOW windows (through the usual clean-up). */
class LowOnly extends Error {}

interface WindowOut {
  seconds: number;
  sent: number;
  received: number;
  hist: HistogramData;
  inCities: number;
  cpuTotal: number;
}

const peers: Peer[] = [];
const SYSTEM = lobbySystemFromEnv();
/** What the CPU figures add up: every server process of the NATS shape, or the one process of the threads shape. */
const SERVER = SYSTEM === 'nats' ? 'gateway + 2 workers + nats-server' : 'one process: gateway + 2 worker threads';
let cluster: LobbyCluster | undefined;
let hop: HopCost | undefined;
// BENCH_KEEP_CPUS_AWAKE=1: idle-priority loops on every core (harness/awake.ts), a diagnostic of the host's wake-ups.
let awake: Awake | undefined;
try {
  if (process.env.BENCH_KEEP_CPUS_AWAKE === '1') {
    awake = keepCpusAwake();
    log(`BENCH_KEEP_CPUS_AWAKE: SCHED_IDLE loops on every core (pids ${awake.pids.join(' ')}); not for comparison with runs without them`);
  }
  // The host first, while nothing else runs: what one message between two processes costs here (see hop-cost.ts).
  hop = await measureHopCost();
  log(describeHopCost(hop));
  cluster = await startLobbyCluster(SYSTEM, { prefix: PREFIX, flags: FLAGS, gatewayFlags: GATEWAY, log });
  log(`relays ${FANOUT ? 'fanned out by the gateway (lobby.relayFanout)' : 'through the layer actors'}`);
  const { url, bus } = cluster;
  const cpuParts = () => cluster!.cpuParts();
  const ioParts = () => cluster!.ioParts();
  const serverCpu = () => {
    const c = cpuParts();
    return c.gateway + c.workers + c.nats;
  };
  log(`cluster up: ${cluster.label}, gateway ${url}, pids ${cluster.procs.map((p) => p.pid).join(' ')}; ${load()}`);
  // What the cluster costs with nobody online (heartbeats, leases, balancer): the baseline for CPU per player.
  const idleCpu: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = serverCpu();
    const w0 = performance.now();
    await sleep(plan.windowMs);
    idleCpu.push((serverCpu() - c0) / ((performance.now() - w0) / 1000));
  }

  const peer = (name: string) => startPeer(new URL('./lobby/player-peer.js', import.meta.url), { name, lifetimeMs: 700_000 });
  const botPeers = await Promise.all([peer('bots0'), peer('bots1')]);
  peers.push(...botPeers);
  // The players who search log in now, before the crowd makes every new login slow.
  const idlePeers = await Promise.all([peer('idle0'), peer('idle1')]);
  peers.push(...idlePeers);
  await idlePeers[0]!.call('searchers', { url, clients: 4, first: 1 }, 60_000);
  // Two crowd sizes, one after the other: LOW bots (a load this machine carries), then the rest up to WANTED.
  const setRelays = (on: boolean) => Promise.all(botPeers.map((p) => p.call('relays', { on })));
  const startBots = async (perPeer: number, offset: number) => {
    // New bots join quiet and the others pause meanwhile: logins must not queue behind a saturated relay load (on
    // 2 cores, 2 000 bots took four minutes to log in with relays running and the start budget cut them at 1 856).
    await setRelays(false);
    const t0 = Date.now();
    const r = await Promise.all(
      botPeers.map((p, i) => p.call<{ started: number; failed: number; retried: number; firstError: string }>('bots', { url, from: 1 + i * Math.ceil(WANTED / 2) + offset, count: perPeer, ramp: 30, relayHz: 2, wanderMs: 60_000, chatMs: 30_000, budgetMs: START_BUDGET_MS }, START_BUDGET_MS + 120_000)),
    );
    const total = r.reduce((s, x) => s + x.started, 0);
    log(`${total} bots online after ${((Date.now() - t0) / 1000).toFixed(0)} s (${r.reduce((s, x) => s + x.retried, 0)} retries, ${r.reduce((s, x) => s + x.failed, 0)} failed ${r.find((x) => x.firstError)?.firstError ?? ''}); ${load()}`);
    // Bots find or make cities over their first seconds; measure once most are in one (or after two minutes anyway:
    // the table says how many were).
    await eventually(async () => {
      const st = await Promise.all(botPeers.map((p) => p.call<{ inCities: number }>('status')));
      return st.reduce((s, x) => s + x.inCities, 0) >= total * 0.85;
    }, { timeoutMs: 120_000, intervalMs: 1000, what: '85 % of the bots in cities' }).catch((err: Error) => log(err.message));
    await setRelays(true);
    return total;
  };

  // Relay windows: both bot processes measure at once; server CPU read around each window.
  const windowTimes: Array<[number, number, number]> = [];
  /** BENCH_LOBBY_LOW_ONLY's paused windows, on the same clock (profiles of what a bot costs apart from its relays). */
  const pausedTimes: Array<[number, number, number]> = [];
  const mono = () => Number(process.hrtime.bigint()) / 1e6;
  let windowBots = 0;
  const relayWindow = async () => {
    const m0 = mono();
    const p0 = cpuParts();
    const c0 = serverCpu();
    const b0 = await Promise.all(botPeers.map((p) => p.call<{ cpuTotal: number }>('cpu')));
    const w0 = performance.now();
    const rs = await Promise.all(botPeers.map((p) => p.call<WindowOut>('window', { ms: plan.windowMs }, plan.windowMs + 30_000)));
    const secs = (performance.now() - w0) / 1000;
    windowTimes.push([windowBots, m0, mono()]);
    const h = new Histogram();
    for (const r of rs) h.merge(r.hist);
    const p1 = cpuParts();
    const parts = { gateway: p1.gateway - p0.gateway, workers: p1.workers - p0.workers, nats: p1.nats - p0.nats };
    // The load side: the bot processes share the 2 cores with the server, so their CPU is part of every latency here.
    const botsCpu = rs.reduce((sum, r, i) => sum + r.cpuTotal - b0[i]!.cpuTotal, 0);
    return { h, secs, parts, botsCpu, cpu: serverCpu() - c0, received: rs.reduce((s, r) => s + r.received, 0), sent: rs.reduce((s, r) => s + r.sent, 0), inCities: rs.reduce((s, r) => s + r.inCities, 0) };
  };
  type RelayRun = Awaited<ReturnType<typeof relayWindow>>;
  const measureRelays = async (bots: number): Promise<{ bots: number; runs: RelayRun[] }> => {
    log(`relay windows with ${bots} bots: ${plan.warmups} warm-up + ${plan.windows} × ${plan.windowMs} ms`);
    windowBots = bots;
    const counter = process.env.BENCH_COUNT_SUBJECTS && bots <= LOW && bus ? new SubjectCounter(bus.connection, PREFIX) : undefined;
    counter?.start();
    const runs = (await runInterleaved(plan, { relays: relayWindow })).relays!;
    counter?.stop();
    if (counter) log(`messages on nats-server by subject during the ${bots}-bot windows:\n${counter.report(bots)}`);
    const med = (f: (r: RelayRun) => number) => stats(runs.map(f)).median.toFixed(0);
    log(`${bots} bots, medians: server CPU ${stats(runs.map((r) => r.cpu / r.secs)).median.toFixed(3)} CPU s/s (idle ${stats(idleCpu).median.toFixed(3)}), relays sent ${med((r) => r.sent / r.secs)}/s; per relay sent: gateway ${med((r) => (r.parts.gateway / r.sent) * 1e6)} µs, workers ${med((r) => (r.parts.workers / r.sent) * 1e6)} µs, nats ${med((r) => (r.parts.nats / r.sent) * 1e6)} µs, all in ${med((r) => (r.cpu / r.sent) * 1e6)} µs; the bot processes ${stats(runs.map((r) => r.botsCpu / r.secs)).median.toFixed(3)} CPU s/s`);
    mkdirSync('.tmp/prof', { recursive: true });
    writeFileSync('.tmp/prof/lobby-windows.json', JSON.stringify({ lobby: windowTimes }));
    log(`relay windows done: ${runs.map((r) => `${(r.received / r.secs).toFixed(0)}/s p99 ${r.h.percentile(99).toFixed(0)} µs`).join(', ')}; ${load()}`);
    return { bots, runs };
  };
  /**
   * BENCH_LOBBY_LOW_ONLY: LOW bots' relay windows interleaved with windows of the same bots with their relays paused
   * (they still chat, wander and form circles): what a bot costs apart from its relays, in the same phase of play.
   */
  const lowOnly = async (bots: number): Promise<never> => {
    windowBots = bots;
    // BENCH_LOBBY_SETTLE_S: play on this long first, so the windows see wanders and circles at their steady rate
    // rather than the rush of finding a first city (counts of two builds compare only in the same phase).
    const settle = Number(process.env.BENCH_LOBBY_SETTLE_S ?? 0) * 1000;
    if (settle > 0) {
      log(`settling for ${settle / 1000} s`);
      await sleep(settle);
    }
    const count = !!process.env.BENCH_COUNT_SUBJECTS && !!bus;
    const counters = count ? { relays: new SubjectCounter(bus!.connection, PREFIX), paused: new SubjectCounter(bus!.connection, PREFIX) } : undefined;
    const io = { relays: { secs: 0, d: [] as Array<ReturnType<typeof ioParts>> }, paused: { secs: 0, d: [] as Array<ReturnType<typeof ioParts>> } };
    const ioDelta = (a: ReturnType<typeof ioParts>, b: ReturnType<typeof ioParts>) => ({
      gateway: { r: b.gateway.r - a.gateway.r, w: b.gateway.w - a.gateway.w },
      workers: { r: b.workers.r - a.workers.r, w: b.workers.w - a.workers.w },
      nats: { r: b.nats.r - a.nats.r, w: b.nats.w - a.nats.w },
    });
    const runs = await runInterleaved(plan, {
      relays: async () => {
        counters?.relays.start();
        const i0 = ioParts();
        const r = await relayWindow();
        io.relays.d.push(ioDelta(i0, ioParts()));
        io.relays.secs += r.secs;
        counters?.relays.stop();
        return r;
      },
      paused: async () => {
        await setRelays(false);
        await sleep(500);
        counters?.paused.start();
        const p0 = cpuParts();
        const i0 = ioParts();
        const w0 = performance.now();
        const m0 = mono();
        await sleep(plan.windowMs);
        pausedTimes.push([bots, m0, mono()]);
        const p1 = cpuParts();
        const secs = (performance.now() - w0) / 1000;
        io.paused.d.push(ioDelta(i0, ioParts()));
        io.paused.secs += secs;
        counters?.paused.stop();
        await setRelays(true);
        const parts = { gateway: p1.gateway - p0.gateway, workers: p1.workers - p0.workers, nats: p1.nats - p0.nats };
        return { secs, parts, cpu: parts.gateway + parts.workers + parts.nats, sent: 0 };
      },
    });
    for (const v of ['relays', 'paused'] as const) {
      if (counters) log(`messages on nats-server by subject, ${bots} bots, ${v}:\n${counters[v].report(bots)}`);
      const rs = runs[v]!;
      const med = (f: (r: (typeof rs)[number]) => number) => stats(rs.map(f)).median.toFixed(3);
      const sum = (f: (d: ReturnType<typeof ioDelta>) => number) => (io[v].d.reduce((s, d) => s + f(d), 0) / io[v].secs).toFixed(0);
      log(`${bots} bots, ${v}: syscalls/s read/write: gateway ${sum((d) => d.gateway.r)}/${sum((d) => d.gateway.w)}, workers ${sum((d) => d.workers.r)}/${sum((d) => d.workers.w)}, nats ${sum((d) => d.nats.r)}/${sum((d) => d.nats.w)}`);
      log(`${bots} bots, ${v}, medians: server CPU ${med((r) => r.cpu / r.secs)} CPU s/s (gateway ${med((r) => r.parts.gateway / r.secs)}, workers ${med((r) => r.parts.workers / r.secs)}, nats ${med((r) => r.parts.nats / r.secs)}), relays sent ${med((r) => r.sent / r.secs)}/s`);
    }
    const cpuOf = (v: 'relays' | 'paused') => stats(runs[v]!.map((r) => r.cpu / r.secs)).median;
    const sent = stats(runs.relays!.map((r) => r.sent / r.secs)).median;
    // Deliveries per relay: the same in two builds when both deliver every relay to the same audience.
    const fanout = stats((runs.relays as Array<{ received?: number; sent: number }>).map((r) => (r.received ?? 0) / Math.max(1, r.sent))).median;
    log(`${bots} bots: ${fanout.toFixed(3)} relays delivered per relay sent`);
    const idle = stats(idleCpu).median;
    mkdirSync('.tmp/prof', { recursive: true });
    writeFileSync('.tmp/prof/lobby-windows.json', JSON.stringify({ lobby: windowTimes, 'lobby paused': pausedTimes }));
    log(`idle cluster ${idle.toFixed(3)} CPU s/s; ${bots} bots without relays ${((cpuOf('paused') - idle) / bots * 1e3).toFixed(3)} ms per bot per s; relays ${(((cpuOf('relays') - cpuOf('paused')) / sent) * 1e6).toFixed(0)} µs each; all in per relay ${((cpuOf('relays') / sent) * 1e6).toFixed(0)} µs; ${load()}`);
    throw new LowOnly();
  };
  const lowPerPeer = Math.min(Math.ceil(LOW / 2), Math.ceil(WANTED / 2));
  if (process.env.BENCH_LOBBY_LOW_ONLY) await lowOnly(await startBots(lowPerPeer, 0));
  const low = await measureRelays(await startBots(lowPerPeer, 0));

  // The floor, while the gatehouse bots pause (the idle cluster's own CPU is not the floor's; it is measured apart).
  await setRelays(false);
  const fanout = stats(low.runs.map((r) => r.received / Math.max(1, r.sent))).median;
  log(`floor: raw ws relay server, cities of ${(1 + fanout).toFixed(2)} on average (gatehouse's ${fanout.toFixed(2)} deliveries per relay); ${load()}`);
  const floor = await runFloor({ meanCity: 1 + fanout, steps: [LOW, ...FLOOR_STEPS], windows: plan.windows, windowMs: plan.windowMs, p99LimitMs: CAPACITY_P99_MS, log });
  await setRelays(true);

  // Gatehouse's ramp: more bots step by step up to WANTED, relay windows at each.
  const ramp = [low];
  let perPeer = lowPerPeer;
  for (const target of [...STEPS, WANTED]) {
    const add = Math.ceil(target / 2) - perPeer;
    if (add <= 0) continue;
    const bots = await startBots(add, perPeer);
    perPeer += add;
    ramp.push(await measureRelays(bots));
  }
  const high = ramp[ramp.length - 1]!;
  const BOTS = high.bots;

  // 10 000 online and player search (bench/lobby/search-phase.ts): the NATS shape only, whose bus the population is
  // put on; the threads shape measures relays.
  const search = bus ? await searchPhase({ bus, url, shards: SHARDS, searchShards: SEARCH_SHARDS, bots: BOTS, idle: IDLE, idlePeers, botPeers, plan, log, load }) : undefined;
  if (!search) log(`no search windows: ${cluster.label} has no bus outside its process to put the search population on`);

  const ms = (h: Histogram, p: number) => h.percentile(p) / 1000;
  const relayMetrics = ({ bots, runs }: { bots: number; runs: RelayRun[] }): Metric[] => [
    metric({ name: `relay latency p50 (${bots} bots, 2 Hz)`, unit: 'ms', runs: runs.map((r) => ms(r.h, 50)), higherIsBetter: false }),
    metric({ name: `relay latency p99 (${bots} bots, 2 Hz)`, unit: 'ms', runs: runs.map((r) => ms(r.h, 99)), higherIsBetter: false, ...(bots >= 2000 ? { target: 20 } : {}) }),
    metric({ name: `relays delivered (${bots} bots)`, unit: '1/s', runs: runs.map((r) => r.received / r.secs), higherIsBetter: true }),
    metric({ name: `relays sent (${bots} bots)`, unit: '1/s', runs: runs.map((r) => r.sent / r.secs), higherIsBetter: true }),
    metric({ name: `bots in cities (${bots} bots)`, unit: 'players', runs: runs.map((r) => r.inCities), higherIsBetter: true }),
    metric({ name: `server CPU (${SERVER}), ${bots} bots`, unit: 'CPU s/s', runs: runs.map((r) => r.cpu / r.secs), higherIsBetter: false, baseline: { name: 'nobody online', runs: idleCpu } }),
    metric({ name: `server CPU per 1 k players above the idle cluster (${bots} bots)`, unit: 'CPU s/s', runs: runs.map((r) => (r.cpu / r.secs - stats(idleCpu).median) / (bots / 1000)), higherIsBetter: false }),
    // Where it goes: each process's CPU per relay sent (a relay is one request, one tell, one push, ~1.5 deliveries).
    ...(SYSTEM === 'nats'
      ? [
    metric({ name: `… gateway CPU per relay sent (${bots} bots)`, unit: 'µs', runs: runs.map((r) => (r.parts.gateway / r.sent) * 1e6), higherIsBetter: false }),
    metric({ name: `… workers CPU per relay sent (${bots} bots)`, unit: 'µs', runs: runs.map((r) => (r.parts.workers / r.sent) * 1e6), higherIsBetter: false }),
    metric({ name: `… nats-server CPU per relay sent (${bots} bots)`, unit: 'µs', runs: runs.map((r) => (r.parts.nats / r.sent) * 1e6), higherIsBetter: false }),
        ]
      : []),
  ];
  const p99Of = (runs: RelayRun[]) => stats(runs.map((r) => ms(r.h, 99))).median;
  // Capacity: the most bots of the ramp whose step, and every one before it, kept relay p99 within the bound.
  const capacityOf = (steps: Array<{ bots: number; p99: number }>) => {
    let best = 0;
    for (const st of steps) {
      if (st.p99 > CAPACITY_P99_MS) break;
      best = st.bots;
    }
    return { bots: best, lowerBound: steps.length > 0 && steps[steps.length - 1]!.p99 <= CAPACITY_P99_MS };
  };
  const ghCap = capacityOf(ramp.map((r) => ({ bots: r.bots, p99: p99Of(r.runs) })));
  const floorCap = capacityOf(floor.map((f) => ({ bots: f.bots, p99: f.p99Ms })));
  const floorLow = floor[0];
  const floorUs = (f: FloorStep) => f.windows.map((w) => (w.cpu / w.sent) * 1e6);
  const allInUs = low.runs.map((r) => (r.cpu / r.sent) * 1e6);
  log(`capacity (relay p99 ≤ ${CAPACITY_P99_MS} ms): gatehouse ${ghCap.lowerBound ? '≥ ' : ''}${ghCap.bots} bots (${ramp.map((r) => `${r.bots}: ${p99Of(r.runs).toFixed(0)} ms`).join(', ')}), floor ${floorCap.lowerBound ? '≥ ' : ''}${floorCap.bots} bots (${floor.map((f) => `${f.bots}: ${f.p99Ms.toFixed(0)} ms`).join(', ')})`);
  const metrics: Metric[] = [
    ...ramp.flatMap(relayMetrics),
    metric({ name: `server CPU per relay sent, all in (${SERVER}), ${low.bots} bots`, unit: 'µs', runs: allInUs, higherIsBetter: false, target: 150 }),
    ...(floorLow
      ? [
          metric({ name: `server CPU per relay sent, all in, against the raw ws relay floor (one process, same fan-out), ${low.bots} bots`, unit: 'µs', runs: allInUs, higherIsBetter: false, baseline: { name: 'raw ws relay floor', runs: floorUs(floorLow) }, targetRatio: 3 }),
          metric({ name: `raw ws relay floor: relay latency p99 (${floorLow.bots} bots, 2 Hz)`, unit: 'ms', runs: floorLow.windows.map((w) => w.p99Ms), higherIsBetter: false }),
          metric({ name: `raw ws relay floor: relays delivered (${floorLow.bots} bots)`, unit: '1/s', runs: floorLow.windows.map((w) => w.received / w.secs), higherIsBetter: true }),
        ]
      : []),
    metric({ name: `capacity: most bots with relay p99 ≤ ${CAPACITY_P99_MS} ms${ghCap.lowerBound ? ` (lower bound: the last step, ${BOTS}, still passed)` : ''}`, unit: 'bots', runs: [ghCap.bots], higherIsBetter: true, baseline: { name: `raw ws relay floor${floorCap.lowerBound ? ' (lower bound)' : ''}`, runs: [floorCap.bots] } }),
    ...(search
      ? [
        metric({ name: `player search p50 (${search.inIndex} online, ${BOTS} bots relaying)`, unit: 'ms', runs: search.relaying.search!.map((r) => ms(r.h, 50)), higherIsBetter: false, baseline: { name: 'whoami p50', runs: search.relaying.whoami!.map((r) => ms(r.h, 50)) } }),
        metric({ name: `player search p99 (${search.inIndex} online, ${BOTS} bots relaying)`, unit: 'ms', runs: search.relaying.search!.map((r) => ms(r.h, 99)), higherIsBetter: false, target: 20, baseline: { name: 'whoami p99', runs: search.relaying.whoami!.map((r) => ms(r.h, 99)) } }),
        metric({ name: `player search p50 (${search.inIndex} online, quiet lobby)`, unit: 'ms', runs: search.quiet.search!.map((r) => ms(r.h, 50)), higherIsBetter: false, baseline: { name: 'whoami p50', runs: search.quiet.whoami!.map((r) => ms(r.h, 50)) } }),
        metric({ name: `player search p99 (${search.inIndex} online, quiet lobby)`, unit: 'ms', runs: search.quiet.search!.map((r) => ms(r.h, 99)), higherIsBetter: false, target: 20, baseline: { name: 'whoami p99', runs: search.quiet.whoami!.map((r) => ms(r.h, 99)) } }),
        ]
      : []),
  ];
  printTable(`bench lobby — ${BOTS} bots${search ? ` + ${search.online - BOTS} more online` : ''} on one machine (${cluster.label}); medians over windows; ${load()}`, metrics);
  const la = loadavg();
  const env = { ...benchEnv(), system: cluster.label, keep_cpus_awake: !!awake, host_hop_cost_us: hop, load_average_1_5_15: la.map((x) => +x.toFixed(2)), floor_steps: floor.map((f) => ({ bots: f.bots, p99_ms: +f.p99Ms.toFixed(1), cpu_us_per_relay: +stats(floorUs(f)).median.toFixed(1) })) };
  const searchErrors = search ? [...search.relaying.search!, ...search.quiet.search!].reduce((s, r) => s + r.errors, 0) : 0;
  log(`wrote ${writeResult(SYSTEM === 'nats' ? 'lobby' : `lobby-${SYSTEM}`, metrics, env)}; search errors ${searchErrors}; ${load()}`);
  await Promise.all(peers.map((p) => p.call('stop', {}, 120_000).catch(() => undefined)));
} catch (err) {
  if (err instanceof LowOnly) log('BENCH_LOBBY_LOW_ONLY: done after the LOW windows');
  else {
    process.exitCode = 1;
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    // The nodes' own words (warnings and errors) for a closer look.
    for (const [i, p] of (cluster?.procs ?? []).entries()) writeFileSync(`/tmp/bench-lobby-node${i}.log`, p.output());
    log(`node outputs in /tmp/bench-lobby-node<i>.log (${SYSTEM === 'nats' ? 'w1, w2, g1' : 'the one process'})`);
  }
} finally {
  await stopAll(peers);
  // SIGTERM first: a node stops cleanly (and writes its CPU profile when run with --cpu-prof); SIGKILL after 10 s.
  await cluster?.stop();
  await awake?.stop();
}
process.exit();
