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
  /** Callbacks waiting for the end of the current synchronous run (a microtask checkpoint in the product). */
  const runEnds: Array<() => void> = [];
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
    (fn) => runEnds.push(fn),
  );
  /** Ends the current synchronous run: the next push is the first of a new one (another socket read, say). */
  const endRun = () => runEnds.splice(0).forEach((fn) => fn());
  /** Pushes each item as the only publish of its own run, as a gateway does reading one frame per socket callback. */
  const pushRuns = (...items: Array<[string, number, { reply: string } | undefined, string | undefined]>) => {
    for (const [subject, size, opts, token] of items) {
      q.push(subject, bytes(size), opts, token);
      endRun();
    }
  };
  return { q, sent, failed, deferred, endRun, pushRuns, runDeferred: () => deferred.splice(0).forEach((fn) => fn()) };
}

describe('PublishQueue', () => {
  it('holds an iteration of publishes and sends them together, in order, with one deferral', () => {
    const h = harness();
    h.pushRuns(['a', 1, undefined, undefined], ['b', 1, { reply: 'r.1' }, '1'], ['c', 1, undefined, undefined]);
    expect(h.sent).toEqual([]);
    expect(h.deferred).toHaveLength(1);
    h.runDeferred();
    expect(h.sent).toEqual(['a', 'b>r.1', 'c']);
    expect(h.q.length).toBe(0);
    // The next iteration's first publish schedules again.
    h.q.push('d', bytes(1), undefined, undefined);
    expect(h.deferred).toHaveLength(1);
  });

  it('a burst (more than one publish in one synchronous run) goes to nats.js from its second item on, after what is queued', () => {
    const h = harness();
    h.pushRuns(['a', 1, undefined, undefined]);
    h.q.push('b', bytes(1), undefined, undefined);
    expect(h.sent).toEqual([]);
    h.q.push('c', bytes(1), { reply: 'r.2' }, '2');
    h.q.push('d', bytes(1), undefined, undefined);
    // a (an earlier run) and b (this run's first) were queued; c made it a burst: all in order, nothing held.
    expect(h.sent).toEqual(['a', 'b', 'c>r.2', 'd']);
    expect(h.q.length).toBe(0);
    // The run ends: the next publish is held again, and the pending deferral sends it.
    h.endRun();
    h.q.push('e', bytes(1), undefined, undefined);
    expect(h.sent).toHaveLength(4);
    h.runDeferred();
    expect(h.sent).toEqual(['a', 'b', 'c>r.2', 'd', 'e']);
  });

  it('a refusal of a burst item sent at once is reported like a queued one: requests by token, publishes as lost', () => {
    const h = harness((s) => (s.startsWith('bad') ? new Error('closed') : undefined));
    h.q.push('ok', bytes(1), undefined, undefined);
    h.q.push('bad.1', bytes(1), { reply: 'r.3' }, '3');
    h.q.push('bad.2', bytes(1), undefined, undefined);
    expect(h.sent).toEqual(['ok']);
    expect(h.failed).toEqual(['request 3 bad.1', 'lost 1 from bad.2']);
    expect(h.q.failures).toBe(2);
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
    for (let i = 0; i < n - 1; i++) h.pushRuns(['s', size, undefined, undefined]);
    expect(h.sent).toHaveLength(0);
    h.pushRuns(['s', size, undefined, undefined]);
    expect(h.sent).toHaveLength(n);
    expect(h.q.length).toBe(0);
  });

  it('reports each request refused at send time by its token, lost publishes once per hand-over, and sends the others', () => {
    const h = harness((s) => (s.startsWith('bad') ? new Error('closed') : undefined));
    h.pushRuns(['bad.1', 1, undefined, undefined], ['ok', 1, undefined, undefined], ['bad.2', 1, { reply: 'r.7' }, '7'], ['bad.3', 1, undefined, undefined]);
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
