/**
 * Pub/sub peer for bench bus: `pubsub-peer.js <pub|sub> <raw|ours> <nats url>`.
 *
 * Flow control is end to end: the subscriber acks its cumulative count every ACK_EVERY messages and the publisher
 * keeps at most `credit` messages unacknowledged. Flushing every N messages would only bound the client→server leg;
 * when the subscriber is the slower side (it is, at 64 B) the server queues for it without limit until it cuts it off
 * as a slow consumer. Cumulative counts make the credit exact across windows without resetting anything.
 *
 * The raw and ours paths are written out separately on purpose: any shared wrapper would tax the baseline.
 */
import type { NatsConnection } from 'nats';
import { cpuSeconds, sleep } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { ACK_SUBJECT, RAW_ROOT, connectOurs, connectRaw, payload, tpSubject } from './common.js';
import type { Impl, OursBus } from './common.js';

const [role, impl, url] = process.argv.slice(2) as ['pub' | 'sub', Impl, string];
export const ACK_EVERY = 256;
/** Messages per synchronous publish burst before yielding to the event loop (to read acks, let the socket drain). */
const BURST = 256;
const SIZES = [64, 1024];

let nc: NatsConnection | undefined;
let bus: OursBus | undefined;

function ackBytes(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n);
  return b;
}

async function serveSub(): Promise<void> {
  let count = 0;
  let bytes = 0;
  const ack = () => ackBytes(count);
  await servePeer({
    async setup() {
      if (impl === 'raw') {
        const c = (nc = await connectRaw(url, 'bench-sub-raw'));
        const ackSubj = `${RAW_ROOT}.${ACK_SUBJECT}`;
        // Reading m.data is the least any consumer does; m.subject would cost a TextDecoder call we leave out.
        const callback = (_e: unknown, m: { data: Uint8Array }) => {
          bytes += m.data.length;
          if (++count % ACK_EVERY === 0) c.publish(ackSubj, ack());
        };
        for (const s of SIZES) c.subscribe(`${RAW_ROOT}.${tpSubject(s)}`, { callback });
        await c.flush();
      } else {
        const b = (bus = await connectOurs(url, 'bench-sub-ours'));
        const handler = (m: { data: Uint8Array }) => {
          bytes += m.data.length;
          if (++count % ACK_EVERY === 0) b.publish(ACK_SUBJECT, ack());
        };
        for (const s of SIZES) b.subscribe(tpSubject(s), handler);
        await b.flush();
      }
    },
    commands: {
      /** Counts what arrives during `ms`; the publisher is already running. */
      async window(a) {
        const c0 = count;
        const b0 = bytes;
        const cpu0 = cpuSeconds();
        const t0 = performance.now();
        await sleep(Number(a.ms));
        const seconds = (performance.now() - t0) / 1000;
        return { msgs: count - c0, bytes: bytes - b0, seconds, cpu: cpuSeconds() - cpu0 };
      },
      /** Resolves once nothing has arrived for 50 ms: the previous run has fully drained. */
      async quiet() {
        for (;;) {
          const c = count;
          await sleep(50);
          if (count === c) return { count };
        }
      },
    },
    close: () => (nc ? nc.close() : bus?.close()),
  });
}

async function servePub(): Promise<void> {
  let sent = 0;
  let acked = 0;
  let wake: (() => void) | undefined;
  let running = false;
  let pumping: Promise<void> = Promise.resolve();
  let run = { sent0: 0, cpu0: 0, t0: 0 };
  // Time spent out of credit: high means the subscriber side (or the ack path) limits the rate, not the publisher.
  let stalls = 0;
  let stalledMs = 0;
  const onAck = (data: Uint8Array) => {
    const n = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
    if (n > acked) acked = n;
    wake?.();
  };

  async function pump(size: number, credit: number): Promise<void> {
    const data = payload(size);
    const publish =
      impl === 'raw'
        ? ((c: NatsConnection, subj: string) => () => c.publish(subj, data))(nc!, `${RAW_ROOT}.${tpSubject(size)}`)
        : ((b: OursBus, subj: string) => () => b.publish(subj, data))(bus!, tpSubject(size));
    while (running) {
      const room = credit - (sent - acked);
      if (room <= 0) {
        const t = performance.now();
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        stalls++;
        stalledMs += performance.now() - t;
        continue;
      }
      const n = room < BURST ? room : BURST;
      for (let i = 0; i < n; i++) publish();
      sent += n;
      await new Promise((r) => setImmediate(r));
    }
  }

  await servePeer({
    async setup() {
      if (impl === 'raw') {
        nc = await connectRaw(url, 'bench-pub-raw');
        nc.subscribe(`${RAW_ROOT}.${ACK_SUBJECT}`, { callback: (_e, m) => onAck(m.data) });
        await nc.flush();
      } else {
        bus = await connectOurs(url, 'bench-pub-ours');
        bus.subscribe(ACK_SUBJECT, (m) => onAck(m.data));
        await bus.flush();
      }
    },
    commands: {
      start(a) {
        if (running) throw new Error('already running');
        running = true;
        run = { sent0: sent, cpu0: cpuSeconds(), t0: performance.now() };
        stalls = stalledMs = 0;
        pumping = pump(Number(a.size), Number(a.credit));
        return {};
      },
      async stop() {
        running = false;
        wake?.();
        await pumping;
        const cpu = cpuSeconds() - run.cpu0;
        const seconds = (performance.now() - run.t0) / 1000;
        await (nc ? nc.flush() : bus!.flush());
        return { msgs: sent - run.sent0, seconds, cpu, stalls, stalledMs };
      },
    },
    close: () => (nc ? nc.close() : bus?.close()),
  });
}

await (role === 'pub' ? servePub() : serveSub());
