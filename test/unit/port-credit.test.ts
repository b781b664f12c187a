/**
 * Credit over a port (bus/thread/port-credit.ts) on a fake port pair whose deliveries the test runs by hand: the
 * receiver acks once per threshold of bytes handled, not per frame; a sender that holds back while `full` never has
 * more than the bound and one frame unread, and goes on once acked; bad acks are refused by field and counted; both
 * ends agree on what a frame costs; the slow-consumer log speaks at most once a second.
 */
import { describe, expect, it } from 'vitest';
import { framesOf, PortOutbox } from '../../bus/thread/messages.js';
import { ackThreshold, FRAME_OVERHEAD, frameCost, MAX_ACK_BYTES, PortCredit, SlowConsumerLog } from '../../bus/thread/port-credit.js';
import type { Logger } from 'pino';

/** One end of a fake pair: what is posted to it waits in `queue` until the test delivers it. */
interface End {
  queue: unknown[];
  postMessage(m: unknown): void;
}

function pair(): [End, End] {
  const a: End = { queue: [], postMessage: (m) => void b.queue.push(structuredClone(m)) };
  const b: End = { queue: [], postMessage: (m) => void a.queue.push(structuredClone(m)) };
  return [a, b];
}

/** A side as the thread bus and broker wire it: an outbox counting into its credit, acks after each post handled. */
function side(end: End, bound: number) {
  const credit = new PortCredit(bound);
  const out = new PortOutbox(end, (e) => { throw e; }, credit);
  const handled: Array<Record<string, unknown>> = [];
  let acksSent = 0;
  /** Handles every post waiting at this end, as port.on('message') does. */
  const read = () => {
    for (const m of end.queue.splice(0)) {
      for (const f of framesOf(m)!) if (!credit.received(f)) handled.push(f as Record<string, unknown>);
      const ack = credit.takeAck();
      if (ack) {
        acksSent++;
        out.postAck(ack);
      }
    }
    out.flush();
  };
  return { credit, out, handled, read, acks: () => acksSent };
}

const frame = (bytes: number) => ({ op: 'msg', id: 1, s: 'x', d: new Uint8Array(bytes) });

describe('PortCredit', () => {
  it('acks once per threshold of bytes handled, not per frame, and the sender counts them back down', () => {
    const [ea, eb] = pair();
    const bound = 64 * 1024;
    const a = side(ea, bound);
    const b = side(eb, bound);
    expect(b.credit.ackBytes).toBe(16 * 1024);
    // 105 frames of 1 000 bytes (1 064 counted each), in posts of 10 frames and a last one of 5.
    for (let i = 0; i < 105; i++) {
      a.out.post(frame(1000));
      if (i % 10 === 9) a.out.flush();
    }
    a.out.flush();
    expect(ea.queue).toHaveLength(0);
    expect(a.credit.unacked).toBe(105 * (1000 + FRAME_OVERHEAD));
    b.read();
    // Checked after each post: 16 KiB handled after every second post of 10 640 bytes, so 5 acks, not 105; the last
    // post's 5 320 bytes wait for more.
    expect(b.handled).toHaveLength(105);
    expect(b.acks()).toBe(5);
    a.read();
    expect(a.handled).toHaveLength(0); // acks are applied, not handed on
    expect(a.credit.unacked).toBe(5 * 1064);
  });

  it('a sender that holds back while full never has more than the bound and one frame unread; acks reopen it', () => {
    const [ea, eb] = pair();
    const bound = 32 * 1024;
    const a = side(ea, bound);
    const b = side(eb, bound);
    let dropped = 0;
    let maxUnacked = 0;
    const send = (n: number) => {
      if (a.credit.full) dropped++;
      else a.out.post(frame(n));
      maxUnacked = Math.max(maxUnacked, a.credit.unacked);
    };
    // The receiver does not read: sizes vary so a frame can land past the bound.
    for (let i = 0; i < 500; i++) send(100 + ((i * 977) % 3000));
    a.out.flush();
    expect(dropped).toBeGreaterThan(0);
    expect(maxUnacked).toBeGreaterThanOrEqual(bound);
    expect(maxUnacked).toBeLessThan(bound + 3100 + FRAME_OVERHEAD);
    expect(b.handled).toHaveLength(0);
    expect(eb.queue.length).toBeGreaterThan(0);
    // The receiver reads: every frame posted arrives, acks bring unacked under a threshold, and sending goes on.
    b.read();
    a.read();
    expect(b.handled.length + dropped).toBe(500);
    expect(a.credit.unacked).toBeLessThan(b.credit.ackBytes);
    expect(a.credit.full).toBe(false);
    const before = a.credit.unacked;
    send(100);
    expect(a.credit.unacked).toBe(before + 164);
  });

  it('refuses a bad ack by field, counts it, and keeps the count of unacked bytes', () => {
    const c = new PortCredit(1024 * 1024);
    c.sent(frame(100));
    const unacked = c.unacked;
    expect(unacked).toBe(164);
    const bad: unknown[] = [{ op: 'ack' }, { op: 'ack', n: 'x' }, { op: 'ack', n: -1 }, { op: 'ack', n: 0 }, { op: 'ack', n: 1.5 }, { op: 'ack', n: unacked + 1 }, { op: 'ack', n: Infinity }];
    for (const f of bad) {
      expect(() => c.received(f)).toThrow(expect.objectContaining({ code: 'BAD_FRAME', message: `ack frame: field n must be a whole number of bytes from 1 to ${unacked} (sent and not yet acked)` }));
    }
    expect(c.badAcks).toBe(bad.length);
    expect(c.unacked).toBe(unacked);
    expect(c.received({ op: 'ack', n: unacked })).toBe(true);
    expect(c.unacked).toBe(0);
  });

  it('both ends agree on a frame\'s cost: payloads, store values, entries and keys, and junk', () => {
    const v = new Uint8Array(300);
    const frames: unknown[] = [
      frame(10),
      { op: 'chg', w: 1, k: 'key', o: 'put', v, r: 3 },
      { op: 'ok', id: 1, v: { key: 'abc', value: new Uint8Array(40), revision: 2 } },
      { op: 'ok', id: 2, v: [{ key: 'ab', value: new Uint8Array(5), revision: 1 }, { key: 'c', value: new Uint8Array(7), revision: 2 }] },
      { op: 'ok', id: 3, v: ['k1', 'key2'] },
      { op: 'ok', id: 4, v: 7 },
      { op: 'flush', id: 1 },
      42,
      null,
    ];
    expect(frames.map(frameCost)).toEqual([74, 364, 107, 79, 70, 64, 64, 64, 64]);
    expect(frames.map((f) => frameCost(structuredClone(f)))).toEqual(frames.map(frameCost));
  });

  it('the ack threshold is a quarter of the bound, at most 256 KiB', () => {
    expect(ackThreshold(64 * 1024 * 1024)).toBe(MAX_ACK_BYTES);
    expect(ackThreshold(1024 * 1024)).toBe(MAX_ACK_BYTES);
    expect(ackThreshold(256 * 1024)).toBe(64 * 1024);
    expect(ackThreshold(2)).toBe(1);
  });
});

describe('SlowConsumerLog', () => {
  it('logs the first drop at once, then at most once a second with the count since, naming the port and bound', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = { warn: (o: Record<string, unknown>) => void lines.push(o) } as unknown as Logger;
    let t = 10_000;
    const l = new SlowConsumerLog(log, () => t, () => 'thread bus port 3 (prefix gh)', 4096);
    l.dropped('msg', 5000);
    for (let i = 0; i < 50; i++) {
      t += 10;
      l.dropped('msg', 5000);
    }
    expect(lines).toEqual([{ port: 'thread bus port 3 (prefix gh)', op: 'msg', dropped: 1, queuedBytes: 5000, maxQueuedBytes: 4096 }]);
    t += 600;
    l.dropped('res', 4100);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ op: 'res', dropped: 51 });
  });
});
