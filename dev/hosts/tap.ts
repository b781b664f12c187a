/**
 * A way in for the test process, which stays in the machine's own namespace: a relay inside `via` (a test host)
 * listens on a Unix socket (not namespaced) and connects to `target` on the test net; a relay in this process
 * listens on 127.0.0.1 and forwards to that socket. The test then uses `nats://127.0.0.1:<port>` like any client, and
 * its traffic enters the test net at `via`, where partitions and isolation apply to it as to any host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestHost } from './netns.js';
import { startRelayOn, type HostProc } from './host-procs.js';
import { startRelay, type Relay } from './relay.js';

export interface Tap {
  readonly url: string;
  close(): Promise<void>;
}

export async function openTap(via: TestHost, target: string): Promise<Tap> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tap-'));
  const path = join(dir, 's.sock');
  let inner: HostProc | undefined;
  let outer: Relay | undefined;
  try {
    inner = await startRelayOn(via, path, target, 0);
    outer = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, target: { path }, delayMs: 0 });
  } catch (err) {
    await inner?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const a = outer.address as { port: number };
  return {
    url: `nats://127.0.0.1:${a.port}`,
    async close() {
      await outer!.close();
      await inner!.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
