/**
 * bench console — what open operator consoles cost the cluster under lobby load (issue 17: three consoles add ≤ 5%
 * CPU). One nats-server, a gateway node and two workers (`gatehouse node`), lobby bots (`gatehouse bots`, relaying
 * at 2 Hz) in a load process. Windows alternate (runInterleaved) between no console and three consoles open on the
 * gateway node's ops port, each as a browser has it: the cluster stream (/console/events) and one busy city's actor
 * stream (/console/actor/events, which records that city's turns). Measured: CPU seconds per second of the three node
 * processes and nats-server together, with consoles against without; the ratio's target is ≤ 1.05.
 * Run: `npm run bench -- console` (BENCH_BOTS, default 300; BENCH_WINDOWS, BENCH_WINDOW_MS). Killed at 8 minutes.
 */
import { loadavg } from 'node:os';
import { startNatsServer, type NatsServerHandle } from '../dev/nats-server.js';
import { runCli, startNodeProcess, type Proc } from '../dev/procs.js';
import { eventually } from '../dev/wait.js';
import { ownersOf, readLeases } from '../dev/cluster-watch.js';
import { createNatsBus } from '../bus/nats/nats-bus.js';
import { createNatsStore } from '../bus/nats/nats-store.js';
import { hardDeadline, planFromEnv, procCpuSeconds, runInterleaved, sleep } from './harness/measure.js';
import { metric, printTable, writeResult } from './harness/report.js';

const BOTS = Number(process.env.BENCH_BOTS ?? 300);
const CONSOLES = 3;
const plan = planFromEnv({ windows: 5, windowMs: 6000 });
const PREFIX = 'consolebench';
const FLAGS = ['--set', 'cluster.deadAfterMs=4000', '--set', 'cluster.heartbeatMs=250', '--set', 'actors.shards=64', '--set', 'node.builtinApps=gateway,lobby'];
const GATEWAY = [...['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`])];
hardDeadline(480_000, 'bench console');
const log = (s: string) => process.stderr.write(`[bench console] ${s}\n`);
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;

/** One console as a browser holds it: two event streams, read and discarded. */
function openConsole(ops: string, city: string): () => void {
  const ctl = new AbortController();
  const drain = async (url: string) => {
    try {
      const res = await fetch(url, { signal: ctl.signal });
      const r = res.body!.getReader();
      for (;;) if ((await r.read()).done) return;
    } catch {
      /* aborted */
    }
  };
  void drain(`${ops}/console/events`);
  void drain(`${ops}/console/actor/events?kind=lobby-city&id=${city}`);
  return () => ctl.abort();
}

const procs: Proc[] = [];
let nats: NatsServerHandle | undefined;
try {
  nats = await startNatsServer();
  const [gw, w1, w2] = await Promise.all([
    startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'g1', roles: 'gateway', extra: [...FLAGS, ...GATEWAY] }),
    startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w1', roles: 'worker', extra: FLAGS }),
    startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w2', roles: 'worker', extra: FLAGS }),
  ]);
  procs.push(gw!, w1!, w2!);
  const ops = /status page\s+(http\S+?)\/?\s/.exec(await gw!.waitFor(/status page\s+http/))![1]!;
  const ws = /(ws:\/\/\S+)/.exec(await gw!.waitFor(/native ws\s+ws:\/\//))![1]!;
  await eventually(async () => ((await (await fetch(`${ops}/status`)).json()) as { cluster?: { liveNodes?: string[] } }).cluster?.liveNodes?.length === 3, { timeoutMs: 60_000, what: 'three live nodes' });
  // Bots log in once: every shard must be owned and served before they start, or their logins fail for good.
  const bus = await createNatsBus({ prefix: PREFIX, servers: [nats.url] });
  try {
    const store = createNatsStore({ connection: bus.connection, prefix: PREFIX });
    await eventually(
      async () => {
        const leases = await readLeases(store);
        const owners = ownersOf(leases);
        return leases.size > 0 && [...leases.values()].every((l) => l.st === 'owned') && (owners.get('w1') ?? 0) > 0 && (owners.get('w2') ?? 0) > 0;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every shard owned by the workers' },
    );
  } finally {
    await bus.close();
  }
  await sleep(3000);
  const bots = runCli(['bots', '--count', String(BOTS), '--url', ws, '--ramp', String(Number(process.env.BENCH_RAMP ?? 20)), '--duration', '400']);
  procs.push(bots);
  log(`${BOTS} bots starting; ${load()}`);
  const loggedIn = () => Number(/(\d+)\/\d+ logged in/.exec(bots.output().split('\n').filter((l) => l.includes('logged in')).at(-1) ?? '')?.[1] ?? 0);
  await eventually(() => loggedIn() >= BOTS * 0.9, { timeoutMs: 180_000, intervalMs: 1000, what: `90% of ${BOTS} bots logged in` }).catch((e: Error) => log(`${e.message}; going on with ${loggedIn()}`));
  log(`${loggedIn()} bots logged in; ${load()}`);
  await sleep(5000);
  const connections = async () => ((await (await fetch(`${ops}/status`)).json()) as { gateway?: { connections?: number; requests?: number } }).gateway ?? {};
  const pids = [gw!.pid, w1!.pid, w2!.pid, nats.pid];
  const cpu = () => pids.reduce((s, p) => s + procCpuSeconds(p), 0);
  const window = async () => {
    const c0 = cpu();
    const t0 = performance.now();
    await sleep(plan.windowMs);
    return (cpu() - c0) / ((performance.now() - t0) / 1000);
  };
  let close: Array<() => void> = [];
  const results = await runInterleaved(plan, {
    none: async () => {
      for (const c of close) c();
      close = [];
      await sleep(7000); // nodes stop beating 6 s after the last console announcement
      return window();
    },
    consoles: async () => {
      if (close.length === 0) close = Array.from({ length: CONSOLES }, (_, i) => openConsole(ops, `s0${(i % 3) + 1}-g01-c01`));
      await sleep(2500); // streams open, announcements heard
      return window();
    },
  });
  for (const c of close) c();
  const after = await connections();
  log(`gateway after: ${after.connections} connections, ${after.requests} requests; bots: ${bots.output().split('\n').filter((l) => l.includes('logged in')).at(-1)}`);
  log(`done; ${load()}`);
  const metrics = [
    metric({ name: `server CPU s/s, ${CONSOLES} consoles open`, unit: 'cpu-s/s', runs: results.consoles!, higherIsBetter: false, baseline: { name: 'no console', runs: results.none! }, targetRatio: 1.05 }),
    metric({ name: 'server CPU s/s, no console', unit: 'cpu-s/s', runs: results.none!, higherIsBetter: false }),
  ];
  printTable(`console cost under ${BOTS} lobby bots (${load()})`, metrics);
  log(`results: ${writeResult('console', metrics)}`);
} finally {
  await Promise.all(procs.map((p) => p.kill('SIGKILL').catch(() => null)));
  await nats?.stop();
}
