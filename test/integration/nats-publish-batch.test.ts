/**
 * The NATS bus writes one event-loop iteration's publishes, requests and replies in one socket write
 * (bus/nats/publish-queue.ts), and keeps what the Bus contract promises around it: order against subscribe, errors
 * nats.js raises at once still thrown to the caller, queued requests failed (not lost) when the connection closes.
 *
 * Writes are counted at net.Socket.prototype.write for sockets to the test's nats-server: nats.js writes its buffer
 * with one socket.write per flush.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import type { Bus } from '../../bus/bus.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { collector } from '../../dev/wait.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('NATS bus: one write per event-loop iteration', () => {
  let server: NatsServerHandle;
  const opened: Bus[] = [];
  const open = async (prefix = 'pb', log?: pino.Logger) => {
    const b = await createNatsBus({ prefix, servers: [server.url], log });
    opened.push(b);
    return b;
  };
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(opened.splice(0).map((b) => b.close()));
  });
  afterAll(async () => server?.stop());

  /**
   * Counts the socket writes to the server that carry `marker` (a subject) while `fn` runs and until the iteration
   * after it has ended.
   */
  async function countWrites(marker: string, fn: () => Promise<void>): Promise<number> {
    let writes = 0;
    const original = net.Socket.prototype.write;
    vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
      const chunk = args[0];
      if (this.remotePort === server.port && (typeof chunk === 'string' || chunk instanceof Uint8Array) && Buffer.from(chunk).includes(marker)) writes++;
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    });
    await fn();
    await new Promise((r) => setImmediate(r));
    vi.restoreAllMocks();
    return writes;
  }

  /**
   * Runs `fns` as separate timer callbacks, each its own macrotask, and says whether they all ran in one iteration.
   * Node runs 0 ms timers made in one synchronous run in one timers phase only when they were made within the same
   * millisecond of loop time; on a busy host the run can cross a millisecond and the later ones wait an iteration.
   * The caller then measures nothing and tries again.
   */
  const inOneIteration = (fns: Array<() => void>) =>
    new Promise<boolean>((done) => {
      let iteration = 0;
      let ticking = true;
      const tick = () => {
        iteration++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const seen = new Set<number>();
      fns.forEach((fn, i) =>
        setTimeout(() => {
          seen.add(iteration);
          fn();
          if (i === fns.length - 1) {
            ticking = false;
            done(seen.size === 1);
          }
        }, 0),
      );
    });

  /** Up to five tries of `run` until its callbacks shared an iteration; a host that never lets them fails the test. */
  async function inOneIterationCounted(marker: string, run: () => Promise<boolean>): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let same = false;
      const writes = await countWrites(marker, async () => {
        same = await run();
      });
      if (same) return writes;
    }
    throw new Error('five tries never ran the timer callbacks in one iteration');
  }

  it('sends publishes made in separate callbacks of one iteration in one write, in order', async () => {
    const pub = await open();
    const sub = await open();
    const got: string[][] = [];
    sub.subscribe('pb.order', (m) => {
      const [attempt, i] = dec(m.data).split(':') as [string, string];
      (got[Number(attempt)] ??= []).push(i);
    });
    await sub.flush();
    let attempt = -1;
    const writes = await inOneIterationCounted('pb.order', () => {
      attempt++;
      return inOneIteration([0, 1, 2, 3, 4].map((i) => () => pub.publish('pb.order', enc(`${attempt}:${i}`))));
    });
    expect(writes).toBe(1);
    await expect.poll(() => got[attempt], { timeout: 15_000 }).toEqual(['0', '1', '2', '3', '4']);
  });

  it('sends asks made in separate callbacks of one iteration in one write', async () => {
    const asker = await open();
    const responder = await open();
    responder.subscribe('pb.echo', (m) => responder.respond(m, m.data));
    await responder.flush();
    // The inbox subscription is made by the first request; make it outside the counted iteration.
    await asker.request('pb.echo', enc('warm'));
    let answers: Array<Promise<string>> = [];
    const writes = await inOneIterationCounted('pb.echo', () => {
      answers = [];
      return inOneIteration([0, 1, 2].map((i) => () => void answers.push(asker.request('pb.echo', enc(`q${i}`)).then((m) => dec(m.data)))));
    });
    expect(writes).toBe(1);
    expect(await Promise.all(answers)).toEqual(['q0', 'q1', 'q2']);
  });

  it('a subscription made after a publish in the same iteration does not get that publish', async () => {
    const bus = await open();
    const seen: string[] = [];
    bus.publish('pb.self', enc('before'));
    bus.subscribe('pb.self', (m) => seen.push(dec(m.data)));
    bus.publish('pb.self', enc('after'));
    await bus.flush();
    await expect.poll(() => seen).toEqual(['after']);
  });

  it('drain sends what is queued first', async () => {
    const pub = await open();
    const sub = await open();
    const got = collector<string>(1);
    sub.subscribe('pb.drain', (m) => got.push(dec(m.data)));
    await sub.flush();
    pub.publish('pb.drain', enc('last words'));
    await pub.drain();
    expect(await got.done).toEqual(['last words']);
  });

  it('still throws at once what nats.js refuses at once: a payload over the server max', async () => {
    const bus = await open();
    const tooBig = new Uint8Array(2 * 1024 * 1024);
    expect(() => bus.publish('pb.big', tooBig)).toThrow(expect.objectContaining({ code: 'BUS_ERROR' }));
    await expect(bus.request('pb.big', tooBig)).rejects.toMatchObject({ code: 'BUS_ERROR' });
    // The connection is fine afterwards.
    await bus.flush();
  });

  it('fails queued requests and logs lost publishes once when the connection closes before the end of the iteration', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const bus = await open('pb', log);
    const nc = (bus as unknown as { connection: { close(): Promise<void> } }).connection;
    // The first request subscribes the reply inbox (which hands the queue over): make it before the counted part.
    await expect(bus.request('pb.nobody', enc('q'), { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
    // Each the first of its own synchronous run (a microtask checkpoint between them), as frames read in separate
    // socket callbacks are: all three are held for the end of the iteration. (Within one run, the second publish on
    // goes to nats.js at once.)
    bus.publish('pb.lost', enc('1'));
    await Promise.resolve();
    const asked = bus.request('pb.nobody', enc('q'), { timeoutMs: 60_000 });
    await Promise.resolve();
    bus.publish('pb.lost', enc('2'));
    // Closed under the bus (as nats.js does on a fatal error), so the queue meets a closed connection.
    void nc.close();
    await expect(asked).rejects.toMatchObject({ code: 'CLOSED' });
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => /not sent/.test(l.msg)).map((l) => (l as unknown as { count: number }).count)).toEqual([2]);
  });
});
