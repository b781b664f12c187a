/**
 * The cluster a chaos run hits: 3 nats-servers (JetStream, R3), 1 gateway and 3 workers as processes, each on its own
 * test host (dev/hosts/netns.ts) when namespaces can be made, else all on loopback (then without partitions). It
 * carries out faults and restarts what they stopped as an operator would; a node that exits without being told to
 * (or fails to start) is a node crash: counted, its output tail kept, and started again.
 */
import type { Bus } from '../../bus/bus.js';
import { callNode } from '../../cluster/control.js';
import { freePorts } from '../nats-server.js';
import { createTestNet, netnsUnavailable, type TestHost, type TestNet } from '../hosts/netns.js';
import { LOOPBACK, startNatsOnHosts, startNodeOn, type HostNatsCluster, type HostProc } from '../hosts/host-procs.js';
import { openTap, type Tap } from '../hosts/tap.js';
import type { NodeHalt } from './checks.js';

export interface NodeCrash {
  node: string;
  code: number | null;
  tail: string;
}

interface Slot {
  readonly id: string;
  readonly host: TestHost;
  readonly args: string[];
  proc?: HostProc;
  /** Set while we stop it on purpose (kill, drain): its exit is not a crash. */
  expectExit: boolean;
  restarting?: Promise<void>;
}

export interface ChaosCluster {
  readonly mode: 'netns' | 'loopback';
  /** Why there are no namespaces (loopback mode). */
  readonly whyLoopback?: string;
  /** NATS URLs for the run's own clients (load, observer). */
  readonly clientUrls: string[];
  readonly workerIds: string[];
  readonly halts: NodeHalt[];
  readonly crashes: NodeCrash[];
  readonly nats: HostNatsCluster;
  killWorker(i: number, downMs: number): Promise<void>;
  stopWorker(i: number, holdMs: number): Promise<void>;
  partitionWorker(i: number, holdMs: number): Promise<void>;
  drainWorker(i: number, bus: Bus): Promise<void>;
  killGateway(downMs: number): Promise<void>;
  killNats(i: number, downMs: number): Promise<void>;
  /** Every node running (restarts finished). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startChaosCluster(o: { prefix: string; nodeFlags: string[]; useNetns?: boolean; log: (s: string) => void }): Promise<ChaosCluster> {
  const why = o.useNetns === false ? 'namespaces not requested' : netnsUnavailable();
  let net: TestNet | undefined;
  if (!why) net = createTestNet(['n1', 'n2', 'n3', 'gw', 'w1', 'w2', 'w3', 'cl']);
  const hostOf = (name: string) => (net ? net.host(name) : LOOPBACK);
  const taps: Tap[] = [];
  const slots: Slot[] = [];
  const halts: NodeHalt[] = [];
  const crashes: NodeCrash[] = [];
  let stopping = false;
  let nats: HostNatsCluster | undefined;
  try {
    // Distinct ports picked together: one at a time, the kernel can hand the same free port out twice.
    const picked = net ? [] : await freePorts(6);
    const places = ['n1', 'n2', 'n3'].map((h, i) => ({ host: hostOf(h), port: net ? 4222 : picked[i]!, routePort: net ? 6222 : picked[3 + i]! }));
    nats = await startNatsOnHosts(places);
    const natsUrls = [0, 1, 2].map((i) => nats!.url(i));
    if (net) for (const u of natsUrls) taps.push(await openTap(net.host('cl'), u.replace('nats://', '')));
    const clientUrls = net ? taps.map((t) => t.url) : natsUrls;
    const common = ['--nats', natsUrls.join(','), '--prefix', o.prefix, '--replicas', '3', ...o.nodeFlags];
    const gwHost = hostOf('gw');
    const ports = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]);
    // The gateway listens on its test host's address: not loopback, but inside a namespace nothing outside the machine
    // reaches, so auth mode none is allowed there (config refuses it on a public host otherwise).
    const open = ['--set', 'gateway.auth.allowNoneOnPublicHost=true'];
    slots.push({ id: 'gw', host: gwHost, expectExit: false, args: ['node', ...common, '--node-id', 'gw', '--roles', 'gateway', '--set', `gateway.host=${gwHost.addr}`, ...ports, ...open] });
    for (const w of ['w1', 'w2', 'w3']) slots.push({ id: w, host: hostOf(w), expectExit: false, args: ['node', ...common, '--node-id', w, '--roles', 'worker'] });

    const launch = async (s: Slot): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        if (stopping) return;
        try {
          const p = await startNodeOn(s.host, s.args, 90_000);
          s.proc = p;
          s.expectExit = false;
          void p.exited.then((code) => {
            if (stopping || s.expectExit || s.proc !== p) return;
            crashes.push({ node: s.id, code, tail: p.output().slice(-2000) });
            o.log(`node ${s.id} exited by itself (${code}): restarting it`);
            s.restarting = sleep(1000).then(() => launch(s));
          });
          return;
        } catch (err) {
          crashes.push({ node: s.id, code: null, tail: String(err).slice(-2000) });
          o.log(`node ${s.id} failed to start (attempt ${attempt + 1}): ${String(err).split('\n')[0]}`);
          if (attempt >= 5) throw err;
          await sleep(1000);
        }
      }
    };
    for (const s of slots) await launch(s);

    const worker = (i: number) => slots[1 + i]!;
    const restart = async (s: Slot) => {
      s.restarting = launch(s);
      await s.restarting;
    };
    const killSlot = async (s: Slot, downMs: number) => {
      s.expectExit = true;
      halts.push({ node: s.id, t: nowUs() });
      await s.proc!.kill('SIGKILL');
      await sleep(downMs);
      await restart(s);
    };
    return {
      mode: net ? 'netns' : 'loopback',
      whyLoopback: why,
      clientUrls,
      workerIds: ['w1', 'w2', 'w3'],
      halts,
      crashes,
      nats,
      killWorker: (i, downMs) => killSlot(worker(i), downMs),
      killGateway: (downMs) => killSlot(slots[0]!, downMs),
      async stopWorker(i, holdMs) {
        const s = worker(i);
        halts.push({ node: s.id, t: nowUs() });
        s.proc!.signal('SIGSTOP');
        await sleep(holdMs);
        s.proc!.signal('SIGCONT');
      },
      async partitionWorker(i, holdMs) {
        if (!net) throw new Error(`host partitions need network namespaces: ${why}`);
        net.isolate(worker(i).id);
        await sleep(holdMs);
        net.heal();
      },
      async drainWorker(i, bus) {
        const s = worker(i);
        s.expectExit = true;
        await callNode(bus, s.id, { type: 'drain' }, 10_000);
        const code = await Promise.race([s.proc!.exited, sleep(90_000).then(() => 'timeout' as const)]);
        if (code === 'timeout') {
          crashes.push({ node: s.id, code: null, tail: `drain did not finish in 90 s\n${s.proc!.output().slice(-1500)}` });
          await s.proc!.kill('SIGKILL');
        } else if (code !== 0) crashes.push({ node: s.id, code, tail: `drain ended with exit code ${code}\n${s.proc!.output().slice(-1500)}` });
        await restart(s);
      },
      async killNats(i, downMs) {
        await nats!.kill(i);
        await sleep(downMs);
        await nats!.restart(i);
      },
      async settled() {
        await Promise.all(slots.map((s) => s.restarting));
      },
      async stop() {
        stopping = true;
        net?.heal();
        for (const s of slots) s.proc?.signal('SIGCONT');
        await Promise.all(slots.map((s) => s.proc?.kill('SIGTERM')));
        await Promise.all(taps.map((t) => t.close()));
        await nats!.stop();
        net?.teardown();
      },
    };
  } catch (err) {
    stopping = true;
    await Promise.all(slots.map((s) => s.proc?.kill('SIGKILL')));
    await Promise.all(taps.map((t) => t.close().catch(() => undefined)));
    await nats?.stop().catch(() => undefined);
    net?.teardown();
    throw err;
  }
}
