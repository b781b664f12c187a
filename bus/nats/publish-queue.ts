/**
 * Publishes held until the end of the event-loop iteration, then handed to nats.js together, so its one microtask
 * flush writes them all in one socket write.
 *
 * Why: nats.js flushes its outbound buffer in a microtask after the first publish, and every socket read callback is
 * its own macrotask. A gateway reading many client frames in one iteration therefore made one write syscall per frame
 * (a tell or an ask each), a worker one per message it answered outside its batched effects. Held to the end of the
 * iteration (setImmediate, after every read callback of the poll phase), they leave in one write.
 *
 * What it keeps:
 * - Order: items leave in the order they were queued. The bus hands the queue over (`sendNow`) before anything else it
 *   sends on the connection whose order against earlier publishes is observable (a SUB; flush, drain and close), so the
 *   connection's protocol order is the order of the calls.
 * - Errors: the bus checks, before queueing, what nats.js would refuse at once (bus/nats/nats-bus.ts); what fails
 *   only at send time (the connection closed meanwhile) goes to `failed`, with the item's request token if any.
 * - Memory: at most one iteration's publishes, and at most HANDOVER_BYTES of them: past that the queue goes to
 *   nats.js at once (which writes every 32 KiB of its own), so a synchronous burst streams as it did before instead
 *   of growing one buffer.
 * - Latency: at most to the end of the iteration. Publishes made inside a setImmediate callback (the workers' batched
 *   effects, the gateway's channel relays, which already wait for the end of the poll phase) leave at the end of that
 *   callback (a microtask), not one more iteration later.
 * - Bursts: from the second publish of one synchronous run on (a loop of publishes, a batch of effects), items go to
 *   nats.js at once, after what is queued: nats.js's own end-of-run flush already writes them together, and holding
 *   them here only added work per message (bench bus on a fast host: pub/sub 1 KiB 0.83-0.89x raw nats.js with every
 *   publish held, 0.98x without). A run is over at its first microtask checkpoint (`endOfRun`).
 */
import { executionAsyncResource } from 'node:async_hooks';
import type { PublishOptions as NatsPublishOptions } from 'nats';

/** Queued bytes (payload + subject) past which the queue goes to nats.js at once. */
export const HANDOVER_BYTES = 64 * 1024;

export type Send = (subject: string, data: Uint8Array, opts: NatsPublishOptions | undefined) => void;
/** What nats.js refused at send time (the connection closed after the items were queued). */
export interface Refused {
  /** A request, by its reply token: its asker is answered with the error. */
  request(token: string, err: unknown, subject: string): void;
  /** `count` plain publishes and replies of one hand-over (a closed connection refuses them all: one report). */
  lost(count: number, err: unknown, subject: string): void;
}
/** Runs `fn` once the iteration's publishes have been made. */
export type Defer = (fn: () => void) => void;

const probe = setImmediate(() => undefined);
const Immediate = probe.constructor;
clearImmediate(probe);

/**
 * The end of the current iteration: setImmediate runs after the poll phase's read callbacks. Inside a setImmediate
 * callback (the check phase) a new setImmediate would wait a whole iteration, so the end of that callback is taken
 * instead: its microtasks run before the next callback. Should the probe misjudge (async hooks give another resource),
 * the cost is one iteration of latency or one write more, never a lost publish.
 */
export const endOfIteration: Defer = (fn) => {
  if (executionAsyncResource() instanceof Immediate) queueMicrotask(fn);
  else setImmediate(fn);
};

export class PublishQueue {
  /** subject, data, options, token: four slots per item, in order. */
  private items: unknown[] = [];
  /** The array sent last, emptied, taken as the next queue: a busy connection allocates no array per iteration. */
  private spare: unknown[] = [];
  private bytes = 0;
  private scheduled = false;
  /** A publish was queued in the current synchronous run (cleared at its first microtask checkpoint). */
  private inRun = false;
  /** Items nats.js refused at send time, since the start. */
  failures = 0;

  constructor(
    private readonly send: Send,
    private readonly refused: Refused,
    private readonly defer: Defer = endOfIteration,
    private readonly endOfRun: Defer = queueMicrotask,
  ) {}

  get length(): number {
    return this.items.length / 4;
  }

  push(subject: string, data: Uint8Array, opts: NatsPublishOptions | undefined, token: string | undefined): void {
    if (this.inRun) {
      // Not the first publish of this synchronous run: nats.js writes the rest of the run together anyway.
      this.sendNow();
      this.sendOne(subject, data, opts, token);
      return;
    }
    this.inRun = true;
    this.endOfRun(this.onEndOfRun);
    this.items.push(subject, data, opts, token);
    this.bytes += data.length + subject.length;
    if (this.bytes >= HANDOVER_BYTES) this.sendNow();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.defer(this.onDefer);
    }
  }

  private readonly onEndOfRun = () => {
    this.inRun = false;
  };

  private readonly onDefer = () => {
    this.scheduled = false;
    this.sendNow();
  };

  /** Hands every queued item to nats.js now, in order. Safe to call with nothing queued. */
  sendNow(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = this.spare;
    this.bytes = 0;
    let lost = 0;
    let lostErr: unknown;
    let lostSubject = '';
    for (let i = 0; i < items.length; i += 4) {
      const subject = items[i] as string;
      try {
        this.send(subject, items[i + 1] as Uint8Array, items[i + 2] as NatsPublishOptions | undefined);
      } catch (err) {
        this.failures++;
        const token = items[i + 3] as string | undefined;
        if (token !== undefined) this.refused.request(token, err, subject);
        else if (lost++ === 0) {
          lostErr = err;
          lostSubject = subject;
        }
      }
    }
    if (lost > 0) this.refused.lost(lost, lostErr, lostSubject);
    items.length = 0;
    this.spare = items;
  }

  /** One item straight to nats.js (what is queued has gone first), its refusal reported as a queued one's is. */
  private sendOne(subject: string, data: Uint8Array, opts: NatsPublishOptions | undefined, token: string | undefined): void {
    try {
      this.send(subject, data, opts);
    } catch (err) {
      this.failures++;
      if (token !== undefined) this.refused.request(token, err, subject);
      else this.refused.lost(1, err, subject);
    }
  }
}
