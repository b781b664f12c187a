/**
 * A FIFO with O(1) shift: per-actor mailboxes can hold up to `mailboxLimit` items under a burst.
 *
 * Almost every mailbox holds at most one item at a time (a turn runs as soon as its message arrives), so the front
 * item has its own field and the array exists only while two or more items wait; it is dropped when the queue
 * empties. Before, every mailbox kept an array that only compacted past 1024 shifted slots: ~150 B per idle actor
 * after its first message, up to ~8 KB after a few thousand.
 */
export class Queue<T> {
  private front: T | undefined = undefined;
  private n = 0;
  /** Items after `front`, from index `head`. */
  private rest: (T | undefined)[] | undefined = undefined;
  private head = 0;

  get length(): number {
    return this.n;
  }

  push(x: T): void {
    if (this.n === 0) this.front = x;
    else (this.rest ??= []).push(x);
    this.n++;
  }

  shift(): T | undefined {
    if (this.n === 0) return undefined;
    const x = this.front;
    if (--this.n === 0) {
      this.front = undefined;
      this.rest = undefined;
      this.head = 0;
      return x;
    }
    const rest = this.rest!;
    this.front = rest[this.head];
    rest[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > rest.length) {
      this.rest = rest.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const out: T[] = [];
    if (this.n > 0) {
      out.push(this.front as T);
      if (this.rest) for (let i = this.head; i < this.rest.length; i++) out.push(this.rest[i] as T);
    }
    this.front = undefined;
    this.rest = undefined;
    this.head = 0;
    this.n = 0;
    return out;
  }
}
