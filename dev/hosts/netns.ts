/**
 * Test hosts as Linux network namespaces (root only): each host gets a namespace with its own address on a private
 * /24 (10.213.0.0/24), joined by veth pairs to a bridge that lives in a namespace of its own ("the switch"). Nothing
 * is created in the machine's own namespace: the veth pairs are made directly inside their namespaces, so these
 * addresses are reachable only from the test hosts and traffic can never leave the machine. Two nets made at the same
 * time (parallel test files) do not see each other, so they can share the subnet.
 *
 * Faults: `isolate(h)` sets the host's switch port down (cut off from every other host); `partition(a, b)` adds
 * blackhole routes both ways (a and b cannot talk, both still reach the rest). The kernel here has no netem, no tbf
 * and no tc filter actions (`tc filter … u32 … action drop` is refused: "Failed to load TC action module"), so
 * iproute2 links and routes are the tools; latency comes from dev/hosts/relay.ts. `heal()` undoes every fault.
 *
 * Everything is named `ghtn<pid>x<k>-…`: `cleanLeftovers()` (run by createTestNet) removes the namespaces of a run
 * whose process is gone, killing the processes still inside them by PID, and teardown removes this net's on success,
 * failure and process exit alike.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const PREFIX = 'ghtn';
const SUBNET = '10.213.0';
let created = 0;

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root to include them';
  if (!['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some((p) => existsSync(p))) return 'iproute2 (`ip`) is not installed';
  try {
    ip(['netns', 'list']);
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`;
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function nsPids(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function removeNamespaces(names: string[]): void {
  for (const ns of names) {
    for (const pid of nsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const ns of names) {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  }
}

/** Removes what an earlier run left behind: namespaces named after a process that no longer exists. */
export function cleanLeftovers(): string[] {
  const re = new RegExp(`^${PREFIX}(\\d+)x\\d+-`);
  const stale = ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => {
      const m = re.exec(n);
      return m !== null && !alive(Number(m[1]));
    });
  removeNamespaces(stale);
  return stale;
}

export interface TestHost {
  readonly name: string;
  readonly ns: string;
  /** The host's address on the test net. */
  readonly addr: string;
  /** Starts `cmd args` inside the host's namespace; the PID is the command's own (`ip netns exec` execs it). */
  spawn(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string; ipc?: boolean }): ChildProcess;
}

export interface TestNet {
  readonly hosts: ReadonlyMap<string, TestHost>;
  host(name: string): TestHost;
  /** Cuts `name` off from every other host (its switch port goes down). */
  isolate(name: string): void;
  /** `a` and `b` cannot reach each other; both still reach everyone else. */
  partition(a: string, b: string): void;
  /** Undoes every isolate and partition. */
  heal(): void;
  /** Kills every process still inside the namespaces and removes them. Idempotent. */
  teardown(): void;
}

const liveNets = new Set<TestNet>();
let exitHooked = false;

/** Hosts on one switch. Names are short (≤ 9 characters: they become interface names). */
export function createTestNet(names: readonly string[]): TestNet {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  if (names.length > 200) throw new Error('at most 200 hosts');
  for (const n of names) if (!/^[a-z0-9]{1,9}$/.test(n)) throw new Error(`host name '${n}': use 1-9 of [a-z0-9]`);
  cleanLeftovers();
  const base = `${PREFIX}${process.pid}x${created++}-`;
  const sw = `${base}sw`;
  const made: string[] = [];
  const hosts = new Map<string, TestHost>();
  const routes: Array<[string, string]> = [];
  const down = new Set<string>();
  const net: TestNet = {
    hosts,
    host(name) {
      const h = hosts.get(name);
      if (!h) throw new Error(`no test host '${name}'`);
      return h;
    },
    isolate(name) {
      net.host(name);
      ip(['-n', sw, 'link', 'set', `p-${name}`, 'down']);
      down.add(name);
    },
    partition(a, b) {
      const ha = net.host(a);
      const hb = net.host(b);
      ip(['-n', ha.ns, 'route', 'add', 'blackhole', `${hb.addr}/32`]);
      routes.push([ha.ns, hb.addr]);
      ip(['-n', hb.ns, 'route', 'add', 'blackhole', `${ha.addr}/32`]);
      routes.push([hb.ns, ha.addr]);
    },
    heal() {
      for (const name of down) ip(['-n', sw, 'link', 'set', `p-${name}`, 'up']);
      down.clear();
      for (const [ns, addr] of routes.splice(0)) {
        try {
          ip(['-n', ns, 'route', 'del', 'blackhole', `${addr}/32`]);
        } catch {
          /* already gone */
        }
      }
    },
    teardown() {
      if (!liveNets.delete(net)) return;
      removeNamespaces([...made].reverse());
    },
  };
  liveNets.add(net);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const n of [...liveNets]) n.teardown();
    });
  }
  try {
    ip(['netns', 'add', sw]);
    made.push(sw);
    ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    names.forEach((name, i) => {
      const ns = `${base}${name}`;
      ip(['netns', 'add', ns]);
      made.push(ns);
      // Both ends are created inside their namespaces: the machine's own namespace never holds a test interface.
      ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `p-${name}`, 'netns', sw]);
      ip(['-n', sw, 'link', 'set', `p-${name}`, 'master', 'br0', 'up']);
      const addr = `${SUBNET}.${i + 1}`;
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      hosts.set(name, {
        name,
        ns,
        addr,
        spawn(cmd, args, opts = {}) {
          return spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
            stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])],
            env: opts.env ?? process.env,
            cwd: opts.cwd,
          });
        },
      });
    });
  } catch (err) {
    net.teardown();
    throw err;
  }
  return net;
}
