/**
 * How many new player records the clients of one remote address may create, when nobody is authenticated (gateway
 * auth mode `none`): there a login of a never-seen Capcom ID writes a durable record that stays, so a script on one
 * host could fill the store. A token bucket per address holding a minute's worth, refilled continuously on the
 * injected clock. With token or hook auth the lobby does not use it: an account creates records only for Capcom IDs
 * it owns (docs/SECURITY.md).
 *
 * Memory: one entry per address that created a record within the last minute; an entry whose bucket has refilled
 * is worth nothing and is dropped by the next sweep, so the map holds at most the addresses active in a minute.
 */
export interface PlayerBudgetLimits {
  readonly newPlayersPerAddressPerMinute: number;
  readonly newPlayersExempt: readonly string[];
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Entries beyond this trigger a sweep of refilled buckets (cheap: at most once per this many new addresses). */
const SWEEP_AT = 1024;

export class PlayerBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly exempt: ReadonlySet<string>;
  private readonly perMinute: number;
  private sweepAt = SWEEP_AT;
  /** Creations refused so far (what the gateway's TOO_MANY_NEW_PLAYERS error count also shows). */
  refused = 0;

  constructor(limits: PlayerBudgetLimits, private readonly now: () => number) {
    this.perMinute = limits.newPlayersPerAddressPerMinute;
    this.exempt = new Set(limits.newPlayersExempt);
  }

  /** Addresses holding a partly spent bucket. */
  get tracked(): number {
    return this.buckets.size;
  }

  /** Whether creations from `address` are counted at all (not when exempt or unknown). */
  applies(address: string | undefined): address is string {
    return address !== undefined && !this.exempt.has(address);
  }

  /** One new record for `address`: false when its budget is spent (nothing is taken then). */
  take(address: string | undefined): boolean {
    if (!this.applies(address)) return true;
    const now = this.now();
    let b = this.buckets.get(address);
    if (b) this.refill(b, now);
    else {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(address, b);
    }
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  private refill(b: Bucket, now: number): void {
    if (now <= b.at) return;
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
  }

  private sweep(now: number): void {
    for (const [address, b] of this.buckets) {
      this.refill(b, now);
      if (b.tokens >= this.perMinute) this.buckets.delete(address);
    }
    // Still large (that many addresses each created records this minute): sweep again only after as many more.
    this.sweepAt = Math.max(SWEEP_AT, 2 * this.buckets.size);
  }
}
