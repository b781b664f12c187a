/**
 * The chaos run's load: closed-loop asks `inc {from, n}` to ledger (durable) and tally (in-memory) actors from a few
 * senders, n counting per (sender, actor) from 0, at most one ask in flight per (sender, actor), paced to a total rate.
 * It records, per (sender, actor), which n were acknowledged and which got NOT_OWNER; failures by code; and per actor
 * the longest time it left an ask unanswered: from sending an ask that failed (or answered late) until the actor
 * answered this or any later ask, charged to the fault running when the failure (or late answer) came.
 *
 * Like a real client (the gateway's askDelivered), an ask answered NO_RESPONDERS (nobody subscribed to the shard at that
 * instant: the message was not delivered, sending it again is safe) is sent again after a short jittered pause, within
 * the ask's own time budget. Without that, the figure measured this load's pacing (each actor is asked about once a
 * second), not the cluster: a kill -9's actors came back at +2.0 s yet showed as unavailable until +3.3 or +4.0 s.
 * NOT_OWNER is not retried: it stays a final answer the oracles check ("NOT_OWNER yet applied").
 *
 * After any other failure the same (sender, actor) asks again (its next n) 100-200 ms later instead of waiting for its
 * turn of the round robin (about 2 s): the unavailability figure then ends within that much of the actor answering
 * again, so a nats-server kill's pauses can be set against the stream elections measured in the same run.
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
  /** fault label → actor → its longest unavailability in that fault (ms): the per-stream breakdown of a nats kill. */
  readonly pauses: Map<string, Map<string, number>>;
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
  const stats: LoadStats = { records: new Map(), failedByCode: new Map(), unavailability: new Map(), pauses: new Map(), acknowledged: 0, sent: 0 };
  for (const t of targets) stats.records.set(key(t), { acked: new Map(), notOwner: new Map() });
  /** Per actor: completion times of its latest successes (ms), and the send time of its oldest unanswered failure. */
  const answered = new Map<string, number[]>();
  const open = new Map<string, { at: number; fault: string }>();
  const nextN = new Map<string, number>();
  const busy = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let running = true;
  let cursor = 0;
  /** (sender, actor) pairs to ask again soon after a failure: pair key → when. At most one entry per pair. */
  const again = new Map<string, { s: number; t: Target; at: number }>();
  const note = (fault: string, actor: string, ms: number) => {
    const cur = stats.unavailability.get(fault);
    if (!cur || cur.ms < ms) stats.unavailability.set(fault, { ms, actor });
    const per = stats.pauses.get(fault) ?? stats.pauses.set(fault, new Map()).get(fault)!;
    const base = actor.split(' ')[0]!;
    if ((per.get(base) ?? 0) < ms) per.set(base, ms);
  };
  /**
   * An ask first sent at `sentAt` ended now, answered or not. Charged to the fault running now: an ask sent just before
   * a fault and failing because of it belongs to that fault, not to the one before.
   */
  const settle = (actor: string, sentAt: number, ok: boolean) => {
    const now = Date.now();
    const fault = o.currentFault();
    const oks = answered.get(actor) ?? answered.set(actor, []).get(actor)!;
    if (ok) {
      const o2 = open.get(actor);
      if (o2 && o2.at < sentAt) note(o2.fault, actor, now - o2.at);
      else note(fault, actor, now - sentAt);
      open.delete(actor);
      oks.push(now);
      if (oks.length > 8) oks.shift();
      return;
    }
    // Failed: unanswered from its send until the actor's first answer after that (perhaps to the other sender, already).
    const later = oks.find((t) => t > sentAt);
    if (later !== undefined) note(fault, actor, later - sentAt);
    else if (!open.has(actor) || open.get(actor)!.at > sentAt) open.set(actor, { at: sentAt, fault });
  };

  const ask = async (s: number, t: Target, msg: unknown, deadline: number): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await senders[s]!.ask(t, msg, { timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        const pause = Math.min(200, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
        if ((err as { code?: unknown }).code !== 'NO_RESPONDERS' || Date.now() + pause >= deadline - 50) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
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
    const sentAt = Date.now();
    const p = ask(s, t, { type: 'inc', from: sender, n }, sentAt + o.askTimeoutMs).then(
      () => {
        stats.acknowledged++;
        (rec.acked.get(sender) ?? rec.acked.set(sender, new Set()).get(sender)!).add(n);
        settle(k, sentAt, true);
      },
      (err: unknown) => {
        const code = String((err as { code?: unknown }).code ?? 'ERROR');
        stats.failedByCode.set(code, (stats.failedByCode.get(code) ?? 0) + 1);
        if (code === 'NOT_OWNER') (rec.notOwner.get(sender) ?? rec.notOwner.set(sender, new Set()).get(sender)!).add(n);
        settle(k, sentAt, false);
        if (running) again.set(pair, { s, t, at: Date.now() + 100 + Math.random() * 100 });
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
    const now = Date.now();
    for (const [pair, a] of again) {
      if (issued >= perTick) break;
      if (a.at > now || busy.has(pair)) continue;
      again.delete(pair);
      one(a.s, a.t);
      issued++;
    }
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
      for (const [actor, f] of open) note(f.fault, `${actor} (still failing at the end)`, end - f.at);
    },
  };
}
