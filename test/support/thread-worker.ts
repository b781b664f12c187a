/**
 * A worker thread on a thread bus, for test/integration/thread-bus.test.ts: `workerData.port` is its end of a
 * MessageChannel served by the main thread's ThreadBroker. The test drives it over parentPort: each command
 * {k, cmd, ...} is answered {k, ...}; messages it receives are reported as events {ev, ...}.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createThreadBus } from '../../bus/thread/thread-bus.js';

export type WorkerCmd =
  | { cmd: 'sub'; s: string; q?: string } // report each message as {ev: 'msg', s, text}
  | { cmd: 'echo'; s: string } // answer `re:<text>`
  | { cmd: 'hang'; s: string } // report {ev: 'hang'} and never answer
  | { cmd: 'pub'; s: string; texts: string[] }
  | { cmd: 'req'; s: string; text: string; t: number }
  | { cmd: 'close' };

const { port, prefix } = workerData as { port: MessagePort; prefix: string };
const bus = createThreadBus(port, { prefix });
const out = parentPort!;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function run(c: WorkerCmd): Promise<Record<string, unknown>> {
  switch (c.cmd) {
    case 'sub':
      bus.subscribe(c.s, (m) => out.postMessage({ ev: 'msg', s: m.subject, text: dec(m.data) }), c.q ? { queue: c.q } : undefined);
      break;
    case 'echo':
      bus.subscribe(c.s, (m) => bus.respond(m, enc(`re:${dec(m.data)}`)));
      break;
    case 'hang':
      bus.subscribe(c.s, () => out.postMessage({ ev: 'hang' }));
      break;
    case 'pub':
      for (const t of c.texts) bus.publish(c.s, enc(t));
      break;
    case 'req':
      try {
        const r = await bus.request(c.s, enc(c.text), { timeoutMs: c.t });
        return { ok: true, text: dec(r.data) };
      } catch (e) {
        const err = e as { code?: string; name?: string; message?: string };
        return { ok: false, code: err.code, name: err.name, message: err.message };
      }
    case 'close':
      await bus.close();
      return {};
  }
  // Answered once the broker has applied it: a subscription is live when the test hears back.
  await bus.flush();
  return {};
}

out.on('message', (m: { k: number } & WorkerCmd) => {
  void run(m).then(
    (r) => out.postMessage({ k: m.k, ...r }),
    (e: Error) => out.postMessage({ k: m.k, ok: false, code: 'WORKER', message: e.message }),
  );
});
out.postMessage({ ev: 'ready' });
