/**
 * The NATS bus's per-iteration publish queue (bus/nats/publish-queue.ts), without a server: order, one deferral per
 * batch, the hand-over bound, refusals at send time, and where the end of an iteration is.
 */
import { describe, expect, it } from 'vitest';
import { endOfIteration, HANDOVER_BYTES, PublishQueue } from '../../bus/nats/publish-queue.js';

const bytes = (n: number) => new Uint8Array(n);

function harness(refuse?: (subject: string) => Error | undefined) {
  const sent: string[] = [];
  const failed: string[] = [];
  const deferred: Array<() => void> = [];
  const q = new PublishQueue(
    (subject, _data, opts) => {
      const err = refuse?.(subject);
      if (err) throw err;
      sent.push(opts?.reply ? `${subject}>${opts.reply}` : subject);
    },
    {
      request: (token, _err, subject) => failed.push(`request ${token} ${subject}`),
      lost: (count, _err, subject) => failed.push(`lost ${count} from ${subject}`),
    },
    (fn) => deferred.push(fn),
  );
  return { q, sent, failed, deferred, runDeferred: () => deferred.splice(0).forEach((fn) => fn()) };
}

describe('PublishQueue', () => {
  it('holds an iteration of publishes and sends them together, in order, with one deferral', () => {
    const h = harness();
    h.q.push('a', bytes(1), undefined, undefined);
    h.q.push('b', bytes(1), { reply: 'r.1' }, '1');
    h.q.push('c', bytes(1), undefined, undefined);
    expect(h.sent).toEqual([]);
    expect(h.deferred).toHaveLength(1);
    h.runDeferred();
    expect(h.sent).toEqual(['a', 'b>r.1', 'c']);
    expect(h.q.length).toBe(0);
    // The next iteration's first publish schedules again.
    h.q.push('d', bytes(1), undefined, undefined);
    expect(h.deferred).toHaveLength(1);
  });

  it('sendNow hands over what is queued at once; the pending deferral then sends only what came after', () => {
    const h = harness();
    h.q.push('a', bytes(1), undefined, undefined);
    h.q.sendNow();
    expect(h.sent).toEqual(['a']);
    h.q.push('b', bytes(1), undefined, undefined);
    expect(h.deferred).toHaveLength(1);
    h.runDeferred();
    expect(h.sent).toEqual(['a', 'b']);
  });

  it('hands over at once past HANDOVER_BYTES, so a burst streams instead of growing one buffer', () => {
    const h = harness();
    const size = 1000;
    const n = Math.ceil(HANDOVER_BYTES / (size + 1));
    for (let i = 0; i < n - 1; i++) h.q.push('s', bytes(size), undefined, undefined);
    expect(h.sent).toHaveLength(0);
    h.q.push('s', bytes(size), undefined, undefined);
    expect(h.sent).toHaveLength(n);
    expect(h.q.length).toBe(0);
  });

  it('reports each request refused at send time by its token, lost publishes once per hand-over, and sends the others', () => {
    const h = harness((s) => (s.startsWith('bad') ? new Error('closed') : undefined));
    h.q.push('bad.1', bytes(1), undefined, undefined);
    h.q.push('ok', bytes(1), undefined, undefined);
    h.q.push('bad.2', bytes(1), { reply: 'r.7' }, '7');
    h.q.push('bad.3', bytes(1), undefined, undefined);
    h.runDeferred();
    expect(h.sent).toEqual(['ok']);
    expect(h.failed).toEqual(['request 7 bad.2', 'lost 2 from bad.1']);
    expect(h.q.failures).toBe(3);
  });
});

describe('endOfIteration', () => {
  it('outside an immediate: after the microtasks of the current callback (setImmediate)', async () => {
    const order: string[] = [];
    await new Promise<void>((done) =>
      setTimeout(() => {
        endOfIteration(() => {
          order.push('end');
          done();
        });
        queueMicrotask(() => order.push('microtask'));
      }, 0),
    );
    expect(order).toEqual(['microtask', 'end']);
  });

  it('inside an immediate: at the end of that callback, before the next immediate, not an iteration later', async () => {
    const order: string[] = [];
    await new Promise<void>((done) => {
      setImmediate(() => {
        endOfIteration(() => order.push('end'));
        order.push('first');
      });
      setImmediate(() => {
        order.push('second');
        done();
      });
    });
    expect(order).toEqual(['first', 'end', 'second']);
  });
});
