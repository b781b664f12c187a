/**
 * A sequenced load for migration tests: each sender sends `inc {from, n}` to actors, with n counting per
 * (sender, actor) from 0. At the end every actor's log must hold, per sender, exactly 0..count-1 in order:
 * nothing lost, nothing applied twice, per-sender order kept.
 */
import type { ActorClient } from '../actors/runtime/client.js';

export interface SeqLoad {
  /** Messages sent so far per `${sender}|${kind}/${id}`. */
  readonly sent: Map<string, number>;
  stop(): Promise<void>;
  readonly total: () => number;
  /** Asks sent and not yet answered or timed out (what `stop()` waits for). */
  readonly pendingAsks: () => number;
}

export function startSeqLoad(
  senders: ActorClient[],
  targets: Array<{ kind: string; id: string }>,
  opts: { perTick: number; maxPerSender: number; askEvery?: number },
): SeqLoad {
  const sent = new Map<string, number>();
  let running = true;
  let total = 0;
  const counts = senders.map(() => 0);
  const pendingAsks = new Set<Promise<unknown>>();
  let rnd = 12345;
  const next = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0);
  const done = new Promise<void>((resolve) => {
    const tick = () => {
      if (!running) return resolve();
      let any = false;
      senders.forEach((c, i) => {
        for (let k = 0; k < opts.perTick && counts[i]! < opts.maxPerSender; k++) {
          any = true;
          const t = targets[next() % targets.length]!;
          const key = `s${i}|${t.kind}/${t.id}`;
          const n = sent.get(key) ?? 0;
          sent.set(key, n + 1);
          counts[i]!++;
          total++;
          const msg = { type: 'inc', from: `s${i}`, n };
          if (opts.askEvery && total % opts.askEvery === 0) {
            // Asks ride the same per-sender sequence; their failures are fine here (the tell path is what we check).
            const p = c.ask(t, msg, { timeoutMs: 20_000 }).catch(() => undefined);
            pendingAsks.add(p);
            void p.finally(() => pendingAsks.delete(p));
          } else c.tell(t, msg);
        }
      });
      if (!any) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  return {
    sent,
    total: () => total,
    pendingAsks: () => pendingAsks.size,
    async stop() {
      running = false;
      await done;
      await Promise.all(pendingAsks);
    },
  };
}

/** Checks an actor's log against what was sent to it; returns problems (empty when exact). */
export function checkLog(log: Array<[string, number]>, expected: Map<string, number>, actor: string): string[] {
  const problems: string[] = [];
  const per = new Map<string, number[]>();
  for (const [from, n] of log) (per.get(from) ?? per.set(from, []).get(from)!).push(n);
  for (const [key, count] of expected) {
    const [sender, target] = key.split('|');
    if (target !== actor) continue;
    const got = per.get(sender!) ?? [];
    const ok = got.length === count && got.every((n, i) => n === i);
    if (!ok) {
      const dup = got.length - new Set(got).size;
      const firstBad = got.findIndex((n, i) => n !== i);
      problems.push(`${actor} from ${sender}: expected 0..${count - 1}, got ${got.length} entries (${dup} duplicates, first out of place at ${firstBad})`);
    }
  }
  return problems;
}

/** Tracks live instances across nodes; records any moment with two. */
export function instanceTracker() {
  const live = new Map<string, string>();
  const violations: string[] = [];
  return {
    violations,
    hook: (event: 'active' | 'closed' | 'adopted' | 'fenced', kind: string, id: string, node: string) => {
      if (event === 'adopted') return;
      if (event === 'fenced') {
        for (const [k, n] of live) if (n === node) live.delete(k);
        return;
      }
      const key = `${kind}/${id}`;
      if (event === 'active') {
        const other = live.get(key);
        if (other !== undefined && other !== node) violations.push(`${key} active on ${other} and ${node}`);
        live.set(key, node);
      } else if (live.get(key) === node) live.delete(key);
    },
  };
}

/**
 * Reads every target's log (waiting, bounded, for late messages to land) and checks it against what was sent:
 * returns the problems, empty when every message was applied exactly once and in per-sender order. The targets are
 * read at once, each ask bounded by `askTimeoutMs`: an actor that does not answer is a problem naming it and the
 * error (and `where(target)`, e.g. its shard's lease), not a wait of every other actor's timeouts in a row.
 */
export async function verifyLogs(
  client: ActorClient,
  targets: Array<{ kind: string; id: string }>,
  sent: Map<string, number>,
  opts: { timeoutMs?: number; askTimeoutMs?: number; where?: (t: { kind: string; id: string }) => string } = {},
): Promise<string[]> {
  const { eventually } = await import('./wait.js');
  const askTimeoutMs = opts.askTimeoutMs ?? 5000;
  const one = async (t: { kind: string; id: string }): Promise<string[]> => {
    const want = [...sent].filter(([k]) => k.endsWith(`|${t.kind}/${t.id}`)).reduce((s, [, n]) => s + n, 0);
    const get = () => client.ask<{ log: Array<[string, number]> }>(t, { type: 'get' }, { timeoutMs: askTimeoutMs });
    let seen = 'no answer yet';
    const state = await eventually(async () => {
      const s = await get();
      seen = `${s.log.length} entries`;
      return s.log.length >= want ? s : undefined;
    }, { timeoutMs: opts.timeoutMs ?? 10_000, intervalMs: 100, what: `${t.kind}/${t.id} to receive ${want} messages` })
      // Short of messages: the log as it is now is what gets checked (and its problems listed).
      .catch(() => get().catch((err: unknown) => err as Error));
    if (state instanceof Error) {
      return [`${t.kind}/${t.id}: no log (${state.message}; last seen: ${seen}${opts.where ? `; ${opts.where(t)}` : ''})`];
    }
    return checkLog(state.log, sent, `${t.kind}/${t.id}`);
  };
  return (await Promise.all(targets.map(one))).flat();
}

/**
 * Per-update durability: every acknowledged (sender, n) is in the actor's log exactly once, and each sender's entries
 * are in increasing order. Unacknowledged updates may or may not be there (a timeout or MAYBE_APPLIED), never twice.
 */
export function ackedProblems(log: Array<[string, number]>, acked: Map<string, number[]>, actor: string): string[] {
  const out: string[] = [];
  const per = new Map<string, number[]>();
  for (const [from, n] of log) (per.get(from) ?? per.set(from, []).get(from)!).push(n);
  for (const [from, ns] of per) if (ns.some((n, i) => i > 0 && n <= ns[i - 1]!)) out.push(`${actor}: ${from}'s entries out of order or repeated`);
  for (const [from, ns] of acked) {
    const have = new Set(per.get(from) ?? []);
    const missing = ns.filter((n) => !have.has(n));
    if (missing.length) out.push(`${actor}: ${missing.length} acknowledged updates from ${from} missing (first ${missing[0]})`);
  }
  return out;
}

