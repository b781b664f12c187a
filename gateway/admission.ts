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
  /** Addresses the per-address bound does not apply to (the gateway bound still does). */
  readonly connectionLimitExempt: readonly string[];
}

export class Admission {
  private readonly perAddress = new Map<string, number>();
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
  admit(address: string): Refusal | undefined {
    if (this.total >= this.limits.maxConnections) return 'gateway';
    if (!this.exempt.has(address)) {
      const n = this.perAddress.get(address) ?? 0;
      if (n >= this.limits.maxConnectionsPerAddress) return 'address';
      this.perAddress.set(address, n + 1);
    }
    this.total++;
    return undefined;
  }

  release(address: string): void {
    this.total--;
    if (this.exempt.has(address)) return;
    const n = this.perAddress.get(address);
    if (n === undefined) return;
    if (n <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, n - 1);
  }
}

export function refusalReason(r: Refusal): string {
  return r === 'gateway' ? 'too many connections to this gateway' : 'too many connections from this address';
}
