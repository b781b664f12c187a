/**
 * End-to-end flow control for tell throughput over NATS, the same for ours and the raw pipeline.
 *
 * Receivers publish their cumulative processed count every ACK_MS; the sender keeps at most `credit` messages
 * unprocessed. Without it the sender outruns the receiver (it does: encoding is cheaper than an XState turn), the
 * server queues without bound and cuts the receiver off as a slow consumer, and the figure measures the backlog. The
 * count is read from a timer rather than per message so that ours needs no hook on its hot path: an ActorHost
 * counts processed turns anyway (host.metrics.processed).
 */
import type { NatsConnection } from 'nats';
import { cpuSeconds } from '../harness/measure.js';

const ACK_MS = 2;
/** Messages published per synchronous burst before yielding (to read acks and let the socket drain). */
const BURST = 256;

/** Receiver side: publishes `count()` on `subject` whenever it changed. Returns the stop function. */
export function startAcker(nc: NatsConnection, subject: string, count: () => number): () => void {
  let last = -1;
  const b = new Uint8Array(8);
  const view = new DataView(b.buffer);
  const t = setInterval(() => {
    const n = count();
    if (n === last) return;
    last = n;
    view.setFloat64(0, n);
    nc.publish(subject, b);
  }, ACK_MS);
  return () => clearInterval(t);
}

export const readAck = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);

/** Sender side: calls `send(i)` for i = 0, 1, 2… as fast as credit allows, until stopped. */
export class CreditPump {
  private sent = 0;
  private acked = 0;
  private wake?: () => void;
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private run = { sent0: 0, cpu0: 0, t0: 0, stalledMs: 0 };

  /** The receiver's cumulative count; acks from before this pump's runs are ignored by construction. */
  onAck(n: number): void {
    if (n > this.acked) this.acked = n;
    this.wake?.();
  }

  /** Aligns the credit with the receiver's count, e.g. after messages this pump did not send. */
  resync(receiverCount: number): void {
    this.acked = receiverCount;
    this.sent = receiverCount;
  }

  start(send: (i: number) => void, credit: number): void {
    if (this.running) throw new Error('pump already running');
    this.running = true;
    this.run = { sent0: this.sent, cpu0: cpuSeconds(), t0: performance.now(), stalledMs: 0 };
    this.done = this.loop(send, credit);
  }

  async stop(): Promise<{ count: number; seconds: number; cpu: number; stalled: number }> {
    this.running = false;
    this.wake?.();
    await this.done;
    const seconds = (performance.now() - this.run.t0) / 1000;
    return {
      count: this.sent - this.run.sent0,
      seconds,
      cpu: cpuSeconds() - this.run.cpu0,
      // Share of the run spent out of credit: high → the receiver limits the rate (as it should), low → the sender.
      stalled: this.run.stalledMs / 1000 / seconds,
    };
  }

  private async loop(send: (i: number) => void, credit: number): Promise<void> {
    while (this.running) {
      const room = credit - (this.sent - this.acked);
      if (room <= 0) {
        const t = performance.now();
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        this.run.stalledMs += performance.now() - t;
        continue;
      }
      const n = room < BURST ? room : BURST;
      for (let i = 0; i < n; i++) send(this.sent + i);
      this.sent += n;
      await new Promise((r) => setImmediate(r));
    }
  }
}
