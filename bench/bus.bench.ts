/**
 * bench bus — our Bus over NATS vs raw nats.js, in the same run, on one nats-server started here:
 *   pub/sub msg/s at 64 B and 1 KiB (target ≥ 0.9× raw), request p50/p99 at 1 in flight (p50 ≤ 1.1× the raw
 *   request floor) and req/s at 64 in flight (≥ 0.9× floor), with CPU per message for every process.
 * Run: `npm run bench -- bus` (BENCH_WINDOWS, BENCH_WINDOW_MS shorten or lengthen it; BENCH_CPU_PROF=<peer regex>
 * profiles peers). About 85 s with the defaults, killed at 150 s whatever happens; every process it starts is
 * stopped on exit.
 */
import { loadavg } from 'node:os';
import { startNatsServer, type NatsServerHandle } from '../dev/nats-server.js';
import { hardDeadline, planFromEnv } from './harness/measure.js';
import { printTable, writeResult, type Metric } from './harness/report.js';
import { pubsubPhase } from './bus/pubsub-phase.js';
import { requestPhase } from './bus/request-phase.js';

const plan = planFromEnv({ windows: 5, windowMs: 1000 });
// 150 s at the default 5 windows of 1 s; more windows (BENCH_WINDOWS=15 to narrow a ratio on a noisy host) get more.
hardDeadline(Math.max(150_000, 150_000 * ((plan.windows + 1) / 6) * (plan.windowMs / 1000)), 'bench bus');
const log = (s: string) => process.stderr.write(`[bench bus] ${s}\n`);
// Other work on the host shows up in every figure here; the load average says how much there was.
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;

let server: NatsServerHandle | undefined;
try {
  // Core NATS only: JetStream is not on this path and would only add server threads.
  server = await startNatsServer({ jetstream: false });
  log(`nats-server pid ${server.pid} at ${server.url}; ${load()}`);
  log(`${plan.warmups} warm-up + ${plan.windows} measured windows of ${plan.windowMs} ms per variant, interleaved`);
  const metrics: Metric[] = [];
  log('pub/sub throughput…');
  metrics.push(...(await pubsubPhase(server, plan, log)));
  log('request/reply…');
  metrics.push(...(await requestPhase(server, plan, log)));
  printTable('bench bus — medians over measured windows; ratio = value / baseline from this run', metrics);
  log(`wrote ${writeResult('bus', metrics)}; ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
} finally {
  await server?.stop();
}
// Peers and the server are stopped above; exit now rather than wait on any straggling handle.
process.exit();
