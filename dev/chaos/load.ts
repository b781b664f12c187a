/**
 * The chaos run's load: closed-loop asks `inc {from, n}` to ledger (durable) and tally (in-memory) actors from a few
 * senders, n counting per (sender, actor) from 0, at most one ask in flight per (sender, actor), paced to a total rate.
 * It records, per (sender, actor), which n were acknowledged and which got NOT_OWNER; failures by code; and per actor
 * the longest time between its first failure and its next success, charged to the fault running when it began.
 */
import type { ActorClient } from '../../actors/runtime/client.js';

export interface Target {
  kind: string;
  id: string;
}

export interface ActorRecord {
  /** sender → acknowledged n's */
  acked: Map<string, Set<number>>;
  /** sender → n's answered NOT_OWNER */
  notOwner: Map<string, Set<number>>;
}

export interface LoadStats {
  readonly records: Map<string, ActorRecord>;
  readonly failedByCode: Map<string, number>;
  /** fault label → longest unavailability of one actor (ms), with the actor. */
  readonly unavailability: Map<string, { ms: number; actor: string }>;
  acknowledged: number;
  sent: number;
}

export interface ChaosLoad {
  readonly stats: LoadStats;
  stop(): Promise<void>;
}

const key = (t: Target) => `${t.kind}/${t.id}`;

export function startChaosLoad(
  senders: readonly ActorClient[],
  targets: readonly Target[],
  o: { ratePerSec: number; askTimeoutMs: number; currentFault: () => string },
): ChaosLoad {
  const stats: LoadStats = { records: new Map(), failedByCode: new Map(), unavailability: new Map(), acknowledged: 0, sent: 0 };
  for (const t of targets) stats.records.set(key(t), { acked: new Map(), notOwner: new Map() });
  const failingSince = new Map<string, { at: number; fault: string }>();
  const nextN = new Map<string, number>();
  const busy = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let running = true;
  let cursor = 0;

  const settle = (actor: string, ok: boolean) => {
    const f = failingSince.get(actor);
    if (ok && f) {
      failingSince.delete(actor);
      const ms = Date.now() - f.at;
      const cur = stats.unavailability.get(f.fault);
      if (!cur || cur.ms < ms) stats.unavailability.set(f.fault, { ms, actor });
    } else if (!ok && !f) failingSince.set(actor, { at: Date.now(), fault: o.currentFault() });
  };

  const one = (s: number, t: Target) => {
    const sender = `s${s}`;
    const k = key(t);
    const pair = `${sender}|${k}`;
    const n = nextN.get(pair) ?? 0;
    nextN.set(pair, n + 1);
    busy.add(pair);
    stats.sent++;
    const rec = stats.records.get(k)!;
    const p = senders[s]!.ask(t, { type: 'inc', from: sender, n }, { timeoutMs: o.askTimeoutMs }).then(
      () => {
        stats.acknowledged++;
        (rec.acked.get(sender) ?? rec.acked.set(sender, new Set()).get(sender)!).add(n);
        settle(k, true);
      },
      (err: unknown) => {
        const code = String((err as { code?: unknown }).code ?? 'ERROR');
        stats.failedByCode.set(code, (stats.failedByCode.get(code) ?? 0) + 1);
        if (code === 'NOT_OWNER') (rec.notOwner.get(sender) ?? rec.notOwner.set(sender, new Set()).get(sender)!).add(n);
        settle(k, false);
      },
    );
    const done = p.finally(() => {
      busy.delete(pair);
      inflight.delete(done);
    });
    inflight.add(done);
  };

  const tickMs = 20;
  const perTick = Math.max(1, Math.round((o.ratePerSec * tickMs) / 1000));
  const timer = setInterval(() => {
    if (!running) return;
    // Round robin over (sender, actor) pairs, skipping pairs still waiting for their previous answer.
    let issued = 0;
    for (let tries = 0; issued < perTick && tries < perTick * 4; tries++) {
      const i = cursor++;
      const t = targets[i % targets.length]!;
      const s = Math.floor(i / targets.length) % senders.length;
      if (busy.has(`s${s}|${key(t)}`)) continue;
      one(s, t);
      issued++;
    }
  }, tickMs);

  return {
    stats,
    async stop() {
      running = false;
      clearInterval(timer);
      await Promise.allSettled([...inflight]);
      const end = Date.now();
      for (const [actor, f] of failingSince) {
        const ms = end - f.at;
        const cur = stats.unavailability.get(f.fault);
        if (!cur || cur.ms < ms) stats.unavailability.set(f.fault, { ms, actor: `${actor} (still failing at the end)` });
      }
    },
  };
}
