/**
 * Stubs for the actor cell's unit tests (cell-mutants-2.test.ts): a scripted snapshot store, a context that records
 * log lines, replies, wake-ups and lifecycle events on a ManualClock, and envelope helpers. No sleeps: `settle` lets
 * promise callbacks run by turning the event loop a bounded number of times.
 */
import { pino } from 'pino';
import { expect } from 'vitest';
import type { CellImage } from '../../actors/runtime/cell.js';
import type { CellContext } from '../../actors/runtime/cell-context.js';
import { encodeEnvelope, type Envelope } from '../../actors/runtime/envelope.js';
import { newRuntimeMetrics } from '../../actors/runtime/metrics.js';
import type { SnapshotStore, StoredActor } from '../../actors/runtime/snapshots.js';
import type { BusMsg } from '../../bus/bus.js';
import { ManualClock } from '../../common/clock.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';

export type Stored = { record: StoredActor; revision: number } | null;

/** A store whose loads and writes answer as scripted ('conflict', an error code, 'reject' for a load or a delete). */
export function scriptedStore() {
  const saves: Array<{ id: string; count: number; expected: number }> = [];
  const removes: Array<{ id: string; expected: number }> = [];
  const failures: string[] = [];
  const loads: Array<Stored | 'reject'> = [];
  let removeFails = false;
  let rev = 0;
  const store = {
    load: async () => (loads[0] === 'reject' ? Promise.reject(new Error((loads.shift(), 'disk on fire'))) : (loads.shift() ?? null)),
    save: async (_k: string, id: string, record: StoredActor, expected: number) => {
      const f = failures.shift();
      if (f === 'conflict') throw new GatehouseError(ErrorCode.Conflict, 'wrong last sequence');
      if (f) throw new GatehouseError(f as never, `scripted ${f}`);
      saves.push({ id, count: (record.s as { context: { count: number } }).context.count, expected });
      return ++rev;
    },
    remove: async (_k: string, id: string, expected: number) =>
      removeFails ? Promise.reject(new Error('delete refused')) : void removes.push({ id, expected }),
  };
  const failNext = (...codes: string[]) => failures.push(...codes);
  const loadNext = (...r: Array<Stored | 'reject'>) => loads.push(...r);
  return { store: store as unknown as SnapshotStore, saves, removes, failNext, loadNext, failRemoves: () => (removeFails = true) };
}

/** A context whose log lines, replies, wake-up requests and lifecycle events are recorded. */
export function stubContext(snapshots?: SnapshotStore, withHook = true) {
  const lines: Array<Record<string, unknown>> = [];
  const replies: Array<{ reply: string | undefined; body: unknown }> = [];
  const redelivered: Envelope[] = [];
  const wakes: boolean[] = [];
  const events: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const ctx: CellContext & { readonly clock: ManualClock } = {
    nodeId: 'n1',
    clock: new ManualClock(),
    log,
    client: { now: Date.now, tell: () => undefined } as unknown as CellContext['client'],
    taps: { active: false } as CellContext['taps'],
    limits: { mailboxLimit: 3, maxRestarts: 3, restartWindowMs: 10_000, passivateAfterMs: 60_000, askTimeoutMs: 1000 },
    metrics: newRuntimeMetrics(),
    snapshots,
    effects: { respond: (msg, reply) => void replies.push({ reply: msg.reply, body: reply }), push: () => undefined },
    home: { removed: () => undefined, park: () => undefined, redeliver: (_k, _id, env) => void redelivered.push(env), wakeLater: (_c, urgent) => void wakes.push(urgent === true) },
    ...(withHook ? { lifecycle: (e: string, _k: string, id: string) => void events.push(`${e}:${id}`) } : {}),
  };
  /** The one line logged with this text (its fields), failing when there is none. */
  const logged = (msg: string) => {
    const found = lines.filter((l) => l.msg === msg);
    expect(found, `log line "${msg}"`).toHaveLength(1);
    return found[0]!;
  };
  return { ctx, lines, logged, replies, redelivered, wakes, events };
}

/** A stub context over a scripted store. */
export function withStore() {
  const s = scriptedStore();
  return { s, ...stubContext(s.store) };
}

export const ask = (env: Envelope, reply = '_INBOX.1'): BusMsg => ({ subject: 'x', data: encodeEnvelope(env), reply });
export const tell = (): BusMsg => ({ subject: 'x', data: new Uint8Array(0) });
export const inc = (q: number): Envelope => ({ m: { type: 'inc', from: 's', n: q }, s: 's', q });
export const get: Envelope = { m: { type: 'get' } };
/** Lets the promise callbacks of loads and writes run: waits for events, not for time. */
export const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};
export const countOf = (img: CellImage) => (img.record!.s as { context: { count: number; fired: number } }).context;
export const rec = (count: number): StoredActor =>
  ({ v: 1, s: { status: 'active', value: 'idle', context: { count, fired: 0, log: [] }, historyValue: {}, children: {} }, t: [], d: [] }) as never;

