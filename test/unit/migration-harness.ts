/**
 * Two hosts on the in-memory bus with a Migrator each, for the hand-over tests (migration-mutants*.test.ts): A owns
 * every shard, B moves shards in from A. The move's steps are held where a test needs them: B's hand-over chunks wait
 * at a gate the test opens, and A's probe can be answered but held back. Every wait is bounded in event-loop turns
 * (`within`) and never moves the clock, so a mutant of cluster/migration.ts that breaks the hand-over fails by
 * assertion within milliseconds instead of hanging on a ManualClock timer nobody advances.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { subjects } from '../../bus/subjects.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { Control } from '../../cluster/control.js';
import type { LeaseTable } from '../../cluster/leases.js';
import type { Membership } from '../../cluster/membership.js';
import { Migrator, type MigrationOptions, type MoveUnit } from '../../cluster/migration.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { createMemoryStore } from '../../bus/memory-store.js';
import { counterMachine, tallyKind } from '../support/test-kinds.js';

/** Durable with batched writes: a change waits `batchMs` on the ManualClock, so it is unsaved at a hand-over. */
export const batchedKind = defineKind({ name: 'batched', machine: counterMachine, persistence: { batchMs: 100 } });
export const BATCHED_UNIT: MoveUnit = { kind: 'batched', shard: 0, rev: 1 };

export const LIMITS = { mailboxLimit: 1000, maxRestarts: 3, restartWindowMs: 10_000, passivateAfterMs: 600_000, askTimeoutMs: 5_000, shards: 1 };
export const OPTS: MigrationOptions = { probeTimeoutMs: 5_000, handoverTimeoutMs: 5_000, chunkBytes: 64 * 1024, handoverWindowActors: 1_000, ackWaitMs: 1_000 };
/** One shard: every actor of the kind moves with it. */
export const UNIT: MoveUnit = { kind: 'tally', shard: 0, rev: 1 };
export const PLAIN = { kind: UNIT.kind, shard: UNIT.shard };

export type Log = Array<[string, number]>;

/**
 * Event-loop turns a step of the move may take (the memory bus delivers on setImmediate; a whole hand-over here takes
 * a few dozen). Every wait is bounded by it, so a broken hand-over (an ack never sent, a promise never resolved) fails
 * here at once instead of waiting on a timer nobody advances, or on the bus's 5 s request timeout.
 */
export const TURNS = 500;

export const turn = () => new Promise<void>((r) => setImmediate(r));

/** `p`'s value (or its rejection) if it settles within `TURNS` event-loop turns; else fails naming `what`. */
export async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let out: { ok: true; v: T } | { ok: false; e: unknown } | undefined;
  p.then(
    (v) => (out = { ok: true, v }),
    (e: unknown) => (out = { ok: false, e }),
  );
  for (let i = 0; i < TURNS && out === undefined; i++) await turn();
  if (out === undefined) throw new Error(`${what}: still pending after ${TURNS} event-loop turns`);
  if (!out.ok) throw out.e;
  return out.v;
}

/** Turns until `cond()` holds, at most `TURNS`; whether it held. */
export async function until(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < TURNS && !cond(); i++) await turn();
  return cond();
}

/** A bus whose subscriptions to `subject` hold their messages until `open()`: the hand-over chunks "in flight". */
export function gated(bus: Bus, subject: string) {
  const held: Array<() => void> = [];
  const seen: BusMsg[] = [];
  let closed = true;
  let twice = false;
  const subscribe: Bus['subscribe'] = (s, fn, opts) =>
    bus.subscribe(
      s,
      s === subject
        ? (m: BusMsg) => {
            seen.push(m);
            const deliver = () => {
              fn(m);
              if (twice) fn(m);
            };
            return closed ? void held.push(deliver) : deliver();
          }
        : fn,
      opts,
    );
  const view = new Proxy(bus, {
    get(t, p) {
      if (p === 'subscribe') return subscribe;
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return {
    bus: view,
    held: () => held.length,
    /** Every chunk that reached the gate, in order. */
    seen,
    /** From now on each chunk is delivered twice (a redelivered hand-over message). */
    duplicate() {
      twice = true;
    },
    /** Delivers the oldest held chunk only (the gate stays closed). */
    releaseOne() {
      held.shift()?.();
    },
    open() {
      closed = false;
      for (const f of held.splice(0)) f();
    },
  };
}

/** A logger that keeps each record (level and fields), for the migrator's own log lines. */
export function capturingLogger() {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), records };
}

export interface TwoNodesOptions {
  shards?: number;
  opts?: Partial<MigrationOptions>;
  leases?: LeaseTable;
  /** false: A has no hand-over handler (the request is refused). */
  handover?: boolean;
  /** The membership view B reads (default A and B). */
  members?: string[];
  /** A answers a probe request but publishes its probe only when the test calls `releaseProbe()`. */
  holdProbe?: boolean;
  /** Called when B reads the membership view, and when A starts a hand-over (the timing test moves its clock there). */
  onView?: () => void;
  onHandover?: () => void;
  /** Adds `batchedKind`, both hosts on one shared memory store (`store` in the result). */
  batched?: boolean;
}

/** Builds the two nodes; `stops` collects what the test's afterEach must stop. */
export async function twoNodes(stops: Array<() => Promise<void>>, o: TwoNodesOptions = {}) {
  const limits = { ...LIMITS, shards: o.shards ?? LIMITS.shards };
  const opts = { ...OPTS, ...o.opts };
  const broker = new MemoryBroker();
  const clock = new ManualClock();
  const connect = (name: string) => {
    const bus = broker.connect({ prefix: 'mw', name });
    stops.push(() => bus.close());
    return bus;
  };
  const busA = connect('A');
  const busB = connect('B');
  const busC = connect('C');
  const store = o.batched ? createMemoryStore('mw-store', clock) : undefined;
  const kinds = o.batched ? [tallyKind, batchedKind] : [tallyKind];
  const host = (nodeId: string, bus: Bus, ownAllShards: boolean) => {
    const h = new ActorHost({ nodeId, bus, clock, kinds, limits, ownAllShards, store });
    stops.push(() => h.stop());
    return h;
  };
  const a = host('A', busA, true);
  const b = host('B', busB, false);
  await a.start();
  await b.start();
  const leaseWrites: Array<[string, unknown, number]> = [];
  const leases =
    o.leases ??
    ({
      write: async (key: string, v: unknown, rev: number) => {
        leaseWrites.push([key, v, rev]);
        return rev + 1;
      },
    } as unknown as LeaseTable);
  const members = o.members ?? ['A', 'B'];
  const membership = {
    view: async () => {
      o.onView?.();
      return members.map((id) => ({ id }));
    },
  } as unknown as Membership;
  const logA = capturingLogger();
  const logB = capturingLogger();
  const migrator = (nodeId: string, h: ActorHost, bus: Bus, control: Bus, log: Logger) =>
    new Migrator({ host: h, bus, control, nodeId, log, clock, leases, membership }, opts);
  const gate = gated(busB, subjects.handover('B', 'm1'));
  const migA = migrator('A', a, busA, busA, logA.log);
  const migB = migrator('B', b, busB, gate.bus, logB.log);
  let markReleased: () => void = () => undefined;
  const releasedA = new Promise<void>((r) => (markReleased = r));
  /** Control requests each node served: probe requests (by node), and the hand-overs A ran (with their result). */
  const probeRequests: string[] = [];
  const handovers: Array<{ probers: string[]; to: string; actors: number }> = [];
  let handoverStarted = false;
  const heldProbes: Array<() => Promise<void>> = [];
  for (const [nodeId, bus, m] of [
    ['A', busA, migA],
    ['B', busB, migB],
  ] as const) {
    const ctl = new Control(bus, nodeId, silentLogger);
    ctl.handle('probe', async (body) => {
      probeRequests.push(nodeId);
      const send = () => m.probe(body.units as MoveUnit[], String(body.mid));
      if (o.holdProbe && nodeId === 'A') return void heldProbes.push(send);
      return send();
    });
    if (o.handover !== false)
      ctl.handle('handover', async (body) => {
        handoverStarted = true;
        o.onHandover?.();
        const r = await m.handover(body.units as MoveUnit[], String(body.mid), body.probers as string[], String(body.to));
        handovers.push({ probers: body.probers as string[], to: String(body.to), actors: r.actors });
        markReleased();
        return r;
      });
    ctl.start();
  }
  await Promise.all([busA.flush(), busB.flush()]);
  const client = new ActorClient(busC, { shards: limits.shards, askTimeoutMs: limits.askTimeoutMs, senderId: 'c' });
  /** An ask, bounded in turns like every other wait. */
  const ask = <T>(id: string, msg: unknown) => within(client.ref('tally', id).ask<T>(msg), `ask ${id}`);
  return {
    a,
    b,
    busA,
    busB,
    busC,
    clock,
    store,
    gate,
    migA,
    migB,
    /** Resolves once A's hand-over call returned (its chunks sent), bounded in turns from this call. */
    released: () => within(releasedA, 'the old owner releasing the shard'),
    ask,
    client,
    leaseWrites,
    logsA: logA.records,
    logsB: logB.records,
    probeRequests,
    handovers,
    handoverStarted: () => handoverStarted,
    releaseProbe: () => Promise.all(heldProbes.splice(0).map((f) => f())),
  };
}
