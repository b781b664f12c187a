/**
 * The relay as a process, to run inside a test host: `node dist/dev/hosts/relay-main.js <listen> <target> <delayMs>`
 * (endpoints as `host:port` or a Unix socket path). Prints `relay listening <endpoint>` once bound; exits on SIGTERM
 * or when its parent (the test) is gone.
 */
import { parseEndpoint, startRelay } from './relay.js';

const [listen, target, delay] = process.argv.slice(2);
if (!listen || !target) {
  process.stderr.write('usage: relay-main <listen host:port|path> <target host:port|path> [delayMs]\n');
  process.exit(2);
}
const relay = await startRelay({ listen: parseEndpoint(listen), target: parseEndpoint(target), delayMs: Number(delay ?? 0) });
const a = relay.address;
process.stdout.write(`relay listening ${'path' in a ? a.path : `${a.host}:${a.port}`}\n`);
const parent = process.ppid;
// A relay must not outlive its test: it checks its parent once a second (kill -9 of the test leaves no handler).
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    process.exit(0);
  }
}, 1000).unref();
process.on('SIGTERM', () => void relay.close().then(() => process.exit(0)));
