/**
 * Starts and stops the Pomelo chat (bench/chat/pomelo/) for the benchmark. Pomelo's master starts its servers as
 * child processes and leaves them running when it is stopped, so the master is started under `setsid` (its own
 * process group, pgid = its pid) and the whole group is killed, by that id, when the run ends or the benchmark exits
 * for any reason. Each start runs from a scratch base directory: config/ with free loopback ports, app/ linked to the
 * committed handlers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/paths.js';
import { procCpuSeconds, sleep } from '../harness/measure.js';
import { freePorts } from '../../dev/nats-server.js';
import { pomeloOpener } from './clients/pomelo.js';
import { peersModules } from '../peers/resolve.js';

const groups = new Set<number>();
let hooked = false;
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => groups.forEach(killGroup));
}

/** Every live process in a process group (Linux /proc). */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) out.push(Number(e)); // field 5: pgrp
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

export interface PomeloChat {
  readonly url: string;
  readonly pgid: number;
  /** CPU seconds of every process in the group so far (processes that already exited are not counted). */
  cpu(): number;
  stop(): Promise<void>;
}

export async function startPomelo(o: { tuned: boolean; name: string; readyTimeoutMs?: number }): Promise<PomeloChat> {
  hook();
  const src = join(repoRoot(), 'bench', 'chat', 'pomelo');
  const base = mkdtempSync(join(tmpdir(), 'gh-pomelo-'));
  mkdirSync(join(base, 'config'));
  symlinkSync(join(src, 'app'), join(base, 'app'));
  const [masterPort, connPort, clientPort, chatPort] = (await freePorts(4)) as [number, number, number, number];
  const master = JSON.parse(readFileSync(join(src, 'config', 'master.json'), 'utf8'));
  master.development.port = masterPort;
  const servers = JSON.parse(readFileSync(join(src, 'config', 'servers.json'), 'utf8'));
  Object.assign(servers.development.connector[0], { port: connPort, clientPort });
  Object.assign(servers.development.chat[0], { port: chatPort });
  writeFileSync(join(base, 'config', 'master.json'), JSON.stringify(master));
  writeFileSync(join(base, 'config', 'servers.json'), JSON.stringify(servers));
  writeFileSync(join(base, 'config', 'log4js.json'), readFileSync(join(src, 'config', 'log4js.json')));

  let output = '';
  const child: ChildProcess = spawn('setsid', [process.execPath, join(src, 'app.js'), 'env=development'], {
    cwd: base,
    stdio: ['ignore', 'pipe', 'pipe'],
    // `pomelo` comes from bench/peers (its own package), found through NODE_PATH by every CommonJS process Pomelo starts.
    env: { ...process.env, NODE_PATH: peersModules(), GH_POMELO_BASE: base, GH_POMELO_NODELAY: o.tuned ? '1' : '0', NODE_ENV: 'development' },
  });
  const pgid = child.pid!;
  groups.add(pgid);
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `ws://127.0.0.1:${clientPort}`;
  const stop = async () => {
    killGroup(pgid);
    groups.delete(pgid);
    for (let i = 0; i < 50 && groupPids(pgid).length > 0; i++) await sleep(20);
    rmSync(base, { recursive: true, force: true });
  };

  // Ready when a client can enter a room: the connector is up and reaches the chat server over RPC.
  const open = pomeloOpener({ deflate: false });
  const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const c = await open(url, `probe${attempt}`, 'probe', { onChat: () => undefined, onSendError: () => undefined });
      c.close();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`pomelo (${o.name}) did not come up: ${(err as Error).message}\n${output}`);
      }
      await sleep(200);
    }
  }
  return {
    url,
    pgid,
    cpu: () => groupPids(pgid).reduce((s, pid) => s + procCpuSeconds(pid), 0),
    stop,
  };
}
