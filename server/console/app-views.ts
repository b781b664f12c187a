/**
 * The apps' views in the console: chat rooms with their member counts, the lobby tree (servers → gates → cities) with
 * the players under each. Each node notes, after every turn of such an actor while a console watches (the recorder's
 * observer: no cost otherwise), the actor's count; its console beat carries the latest counts, so the page shows what
 * is live across the cluster. An actor idle since the console opened shows once it takes a turn.
 */
import { ROOM_KIND } from '../../chat/room.js';
import { rosterSize } from '../../lobby/layer.js';
import { K } from '../../lobby/tree.js';
import type { RecordedRunner } from '../../actors/runtime/recorder.js';

type Counter = (context: Record<string, unknown>) => number;

const COUNTERS: Record<string, Counter> = {
  [ROOM_KIND]: (c) => (Array.isArray(c.members) ? c.members.length : 0),
  [K.server]: (c) => rosterSize((c.roster ?? {}) as Record<string, never>),
  [K.gate]: (c) => rosterSize((c.roster ?? {}) as Record<string, never>),
  [K.city]: (c) => rosterSize((c.roster ?? {}) as Record<string, never>),
};

/** Actors listed per kind, at most: a beat stays small however many rooms there are. */
export const MAX_LISTED = 200;
/** Counts not refreshed by a turn for this long are left out. */
const KEPT_MS = 120_000;

export class AppViews {
  /** kind → id → the actor's runner as of its latest turn (counted once a second, in snapshot(), not per turn). */
  private readonly seen = new Map<string, Map<string, { r: RecordedRunner; at: number }>>();

  constructor(private readonly now: () => number) {}

  /** The recorder's observer: per turn only a map write; a big layer's roster is counted once per beat. */
  readonly observe = (r: RecordedRunner): void => {
    if (!COUNTERS[r.kind.name]) return;
    let byId = this.seen.get(r.kind.name);
    if (!byId) this.seen.set(r.kind.name, (byId = new Map()));
    if (!byId.has(r.id) && byId.size >= MAX_LISTED) return;
    byId.set(r.id, { r, at: this.now() });
  };

  /** kind → id → count, the stale ones dropped. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    const now = this.now();
    for (const [kind, byId] of this.seen) {
      const count = COUNTERS[kind]!;
      const row: Record<string, number> = {};
      for (const [id, v] of byId) {
        const actor = v.r.actor;
        if (now - v.at > KEPT_MS || !actor) byId.delete(id);
        else row[id] = count((actor.getSnapshot() as { context?: Record<string, unknown> }).context ?? {});
      }
      out[kind] = row;
    }
    return out;
  }

  clear(): void {
    this.seen.clear();
  }
}
