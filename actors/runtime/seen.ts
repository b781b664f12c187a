/**
 * How far ahead of the receiver's wall clock (or of the last sequence seen from that sender, when that is later) a
 * sequence may run, by default. Senders anchor their sequences to their wall clock (actors/runtime/client.ts: µs
 * since the epoch, +1 per message, so a sender outruns its clock only above a million messages a second), which
 * gives every sequence, a sender's first to an actor included, a reference the receiver knows without state. A
 * forged envelope with `q = Number.MAX_SAFE_INTEGER` used to be recorded and then every later message of that
 * sender was dropped as a duplicate, forever (the marks persist); now the worst a forged `q` can do is silence that
 * sender at that actor for this long. Clock skew between hosts must stay well below it (NTP keeps it to ms).
 */
export const DEFAULT_SEQ_AHEAD_MS = 60_000;

/** Microseconds per ms: sequences count µs of the sender's wall clock. */
export const SEQ_PER_MS = 1000;

/**
 * True when `seq` runs further ahead than the bound: of the last mark from that sender and of the receiver's clock
 * (`nowMs`), whichever is later. Such an envelope is refused and not recorded. A duplicate of something really
 * processed is never ahead (its mark was recorded when it ran), so the live-migration dedupe is unchanged.
 */
export function seqTooFarAhead(seq: number, last: number | undefined, nowMs: number, aheadMs = DEFAULT_SEQ_AHEAD_MS): boolean {
  const ref = Math.max(last ?? 0, nowMs * SEQ_PER_MS);
  return seq > ref + aheadMs * SEQ_PER_MS;
}

/**
 * Dedupe marks of one actor: the last sequence number seen from each sender, at most `max` senders (the oldest is
 * forgotten first). Most actors hear from one sender (a node's client) for their whole life, so the first sender is
 * kept in two fields and a Map exists only from the second on: a Map with one entry cost ~180 B per idle actor
 * (bench memory), this ~40 B.
 */
export class SeenMarks {
  private oneSender: string | undefined = undefined;
  private oneSeq = 0;
  private many: Map<string, number> | undefined = undefined;

  constructor(
    entries: ReadonlyArray<readonly [string, number]> = [],
    private readonly max = 64,
  ) {
    if (entries.length === 1) [this.oneSender, this.oneSeq] = entries[0]!;
    else if (entries.length > 1) this.many = new Map(entries);
  }

  get size(): number {
    return this.many ? this.many.size : this.oneSender === undefined ? 0 : 1;
  }

  get(sender: string): number | undefined {
    if (this.many) return this.many.get(sender);
    return sender === this.oneSender ? this.oneSeq : undefined;
  }

  set(sender: string, seq: number): void {
    if (!this.many) {
      if (this.oneSender === undefined || this.oneSender === sender) {
        this.oneSender = sender;
        this.oneSeq = seq;
        return;
      }
      // A second sender: from here on a Map, the first sender first (it is the oldest).
      this.many = new Map([[this.oneSender, this.oneSeq]]);
      this.oneSender = undefined;
    }
    const m = this.many;
    if (!m.has(sender) && m.size >= this.max) m.delete(m.keys().next().value!);
    m.set(sender, seq);
  }

  /** In insertion order (oldest first), as stored with a snapshot or sent with a hand-over. */
  entries(): Array<[string, number]> {
    if (this.many) return [...this.many];
    return this.oneSender === undefined ? [] : [[this.oneSender, this.oneSeq]];
  }
}
