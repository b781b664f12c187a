/**
 * Admission at accept: how many connections this gateway holds, and how many each remote address holds. A socket
 * past either bound is refused before any connection state exists for it (no connection actor, no protocol rules):
 * refusing costs the gateway one write and a close, so a host opening sockets in a loop cannot grow its memory.
 *
 * Pure bookkeeping: the gateway asks `admit` on accept and calls `release` exactly once per admitted socket.
 */
export type Refusal = 'gateway' | 'address';

export interface AdmissionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly requestsPerSecondPerAddress: number;
  readonly requestBurstPerAddress: number;
  /** Addresses the per-address bound does not apply to (the gateway bound still does). */
  readonly connectionLimitExempt: readonly string[];
}

/** One address's connections and its shared request budget (a token bucket on the gateway's clock). */
interface AddressState {
  n: number;
  tokens: number;
  at: number;
}

export class Admission {
  private readonly perAddress = new Map<string, AddressState>();
  private readonly exempt: ReadonlySet<string>;
  private total = 0;

  constructor(private readonly limits: AdmissionLimits) {
    this.exempt = new Set(limits.connectionLimitExempt);
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.total;
  }

  /** Distinct remote addresses holding a connection (exempt ones are not tracked). */
  get addresses(): number {
    return this.perAddress.size;
  }

  /** Counts the connection in, or says which bound refuses it (nothing is counted then). */
  admit(address: string, now = 0): Refusal | undefined {
    if (this.total >= this.limits.maxConnections) return 'gateway';
    if (!this.exempt.has(address)) {
      const s = this.perAddress.get(address);
      if (s && s.n >= this.limits.maxConnectionsPerAddress) return 'address';
      if (s) s.n++;
      else this.perAddress.set(address, { n: 1, tokens: this.limits.requestBurstPerAddress, at: now });
    }
    this.total++;
    return undefined;
  }

  /**
   * One request from `address`: false when the address's shared budget is spent. The state lives while the address
   * holds a connection, so closing and reopening sockets does not refill it faster than the rate.
   */
  takeRequest(address: string, now: number): boolean {
    const s = this.perAddress.get(address);
    if (!s) return true; // exempt (or already released)
    const { requestsPerSecondPerAddress: rate, requestBurstPerAddress: burst } = this.limits;
    if (now > s.at) {
      s.tokens = Math.min(burst, s.tokens + ((now - s.at) * rate) / 1000);
      s.at = now;
    }
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
  }

  release(address: string): void {
    this.total--;
    if (this.exempt.has(address)) return;
    const s = this.perAddress.get(address);
    if (!s) return;
    if (s.n <= 1) this.perAddress.delete(address);
    else s.n--;
  }
}

export function refusalReason(r: Refusal): string {
  return r === 'gateway' ? 'too many connections to this gateway' : 'too many connections from this address';
}
