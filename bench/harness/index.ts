/**
 * The benchmark harness: how every bench/<name>.bench.ts measures (the rules: the benchmarks guide in docs/).
 *
 * A benchmark is `bench/<name>.bench.ts` (run: `npm run bench -- <name>`, which builds and runs the dist/ JS). Its
 * peers (load generators, servers, other nodes) are separate files in `bench/<name>/`, started as processes:
 *
 *   // bench/foo/peer.ts — the child
 *   await servePeer({
 *     setup: async () => { …connect…; return { info: 'sent with ready' }; },
 *     commands: { run: async ({ ms }) => ({ count, seconds, cpu, hist: hist.toJSON() }) },   // any coarse commands
 *     close: () => conn.close(),
 *   });
 *
 *   // bench/foo.bench.ts — the orchestrator
 *   hardDeadline(170_000);                                   // the run stops by itself, whatever hangs
 *   const plan = planFromEnv({ windows: 5, windowMs: 1000 }); // 1 warm-up + ≥3 measured windows per variant
 *   const server = await startNatsServer();                  // dev/nats-server.ts
 *   const p = await startPeer(new URL('./foo/peer.js', import.meta.url), { name: 'gen', args: [server.url] });
 *   try {
 *     const r = await runInterleaved(plan, {                 // rounds rotate the variant order: drift hits all alike
 *       raw:  async () => (await p.call('run', { ms: plan.windowMs, impl: 'raw' })),
 *       ours: async () => …,
 *     });
 *     const m = [metric({ name: 'events/s', unit: '1/s', runs: r.ours.map(rate), higherIsBetter: true,
 *                         baseline: { name: 'raw pipeline', runs: r.raw.map(rate) }, targetRatio: 0.7 })];
 *     printTable('bench foo', m); writeResult('foo', m);      // table + bench/results/foo.json
 *   } finally { await stopAll([p]); await server.stop(); }
 *
 * Pieces: measure.ts — Histogram (bounded, p50/p99, serialisable over IPC), cpuSeconds() (this process),
 * procCpuSeconds(pid) (any process, e.g. nats-server), stats() (median, min–max), runInterleaved, planFromEnv,
 * hardDeadline, sleep. procs.ts — startPeer/stopAll: fork with IPC, ≤ MAX_PEERS, lifetime cap, SIGKILL by PID on
 * exit/Ctrl-C; BENCH_CPU_PROF=<name regex> adds --cpu-prof. peer-protocol.ts — servePeer and the message shapes
 * (every result carries the peer's cpuTotal; built-in commands `cpu` and `exit`). report.ts — metric(), printTable,
 * writeResult, benchEnv: the result file (name, env with commit and load, metrics with runs, baseline and ratio).
 */
export * from './measure.js';
export * from './procs.js';
export * from './peer-protocol.js';
export * from './report.js';
export * from './paths.js';
