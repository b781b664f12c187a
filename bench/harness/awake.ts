/**
 * A diagnostic for what a host's wake-ups cost (BENCH_KEEP_CPUS_AWAKE=1 in bench lobby): one busy loop per core at
 * SCHED_IDLE, the lowest priority there is, so every core is always running something and a message never has to
 * wake an idle (virtual) CPU. Any other thread preempts these loops at once, and their own CPU is not in a server's
 * figures, which are read per process. On a 2-core VM a round trip between two processes cost 40 µs of CPU per side
 * with the cores idle between messages and 27 µs with these loops running (hop-cost.ts, same run): the difference is
 * the host's, not the code's. Never for figures that are compared with a baseline run without it.
 *
 * Each loop is a child process killed by PID in `stop()` and when this process exits; `chrt` (util-linux) makes it
 * SCHED_IDLE, and without `chrt` the loops do not start (a nice-19 loop would still take CPU from the server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Awake {
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

export function keepCpusAwake(): Awake {
  if (spawnSync('chrt', ['--version']).status !== 0) throw new Error('BENCH_KEEP_CPUS_AWAKE needs chrt (util-linux) to run its loops at SCHED_IDLE');
  const loops: ChildProcess[] = [];
  const killAll = () => {
    for (const c of loops) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (let i = 0; i < availableParallelism(); i++) {
    loops.push(spawn('chrt', ['--idle', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  return {
    pids: loops.map((c) => c.pid!),
    async stop() {
      const exited = loops.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
      killAll();
      await Promise.all(exited);
      process.off('exit', killAll);
    },
  };
}
