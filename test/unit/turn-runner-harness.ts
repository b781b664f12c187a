/**
 * A cell on a stub context for the turn-runner tests (turn-runner-mutants*.test.ts): an injected ManualClock, a fixed
 * client clock, and every reply, tell, push, park and redelivery recorded.
 */
import { ActorCell } from '../../actors/runtime/cell.js';
import type { CellContext } from '../../actors/runtime/cell-context.js';
import type { Envelope } from '../../actors/runtime/envelope.js';
import { newRuntimeMetrics } from '../../actors/runtime/metrics.js';
import type { BusMsg } from '../../bus/bus.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';

export const NOW_MS = 1_000_000;

export interface StubOptions {
  serving?: () => boolean;
  ask?: (to: unknown, msg: unknown) => Promise<unknown>;
  tell?: (to: unknown, msg: unknown) => void;
  limits?: Partial<CellContext['limits']>;
  taps?: CellContext['taps'];
  snapshots?: CellContext['snapshots'];
  log?: CellContext['log'];
}

export function stubContext(o: StubOptions = {}) {
  const replies: Array<{ to: string | undefined; reply: unknown }> = [];
  const tells: Array<{ to: unknown; msg: unknown }> = [];
  const pushes: unknown[] = [];
  const parked: Array<{ pump(): void }> = [];
  const redelivered: Envelope[] = [];
  const ctx = {
    nodeId: 'n1',
    clock: new ManualClock(),
    log: o.log ?? silentLogger,
    client: {
      now: () => NOW_MS,
      tell: (to: unknown, msg: unknown) => {
        o.tell?.(to, msg);
        tells.push({ to, msg });
      },
      ask: o.ask ?? (async () => 'pong'),
    } as unknown as CellContext['client'],
    taps: o.taps ?? ({ active: false } as CellContext['taps']),
    limits: { mailboxLimit: 100, maxRestarts: 2, restartWindowMs: 10_000, passivateAfterMs: 60_000, askTimeoutMs: 1000, ...o.limits },
    snapshots: o.snapshots,
    metrics: newRuntimeMetrics(),
    serving: o.serving,
    effects: {
      respond: (msg, reply) => void replies.push({ to: msg.reply, reply }),
      push: (to, route, body) => void pushes.push({ to, route, body }),
    },
    home: {
      removed: () => undefined,
      park: (r) => void parked.push(r),
      redeliver: (_k, _id, env) => void redelivered.push(env),
      wakeLater: () => undefined,
    },
  } satisfies CellContext;
  return { ctx, replies, tells, pushes, parked, redelivered };
}

let inbox = 0;
export const ask = (): BusMsg => ({ subject: 'x', data: new Uint8Array(0), reply: `_INBOX.${++inbox}` });
export const tell = (): BusMsg => ({ subject: 'x', data: new Uint8Array(0) });
export const from = (m: unknown, q?: number, s = 's'): Envelope => (q === undefined ? { m } : { m, s, q });
export const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};
export const values = (replies: Array<{ reply: unknown }>) => replies.map((r) => r.reply);
export const count = (cell: ActorCell) => (cell.image().record!.s as { context: { count: number } }).context.count;

