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
