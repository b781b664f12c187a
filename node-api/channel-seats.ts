/**
 * Which gateway channel each session of this gateway joined, and with which connection: what an app keeps to fan its
 * traffic out on gateway channels (the lobby's relays, chat lines). Shared by chat and lobby, which may not import
 * each other.
 *
 * Bounded by `cap`. A connection that closes leaves every channel on its own (the gateway drops it), but its session's
 * seat stays here, and a session that went on on another gateway never ends on this one. So when the map is full, the
 * seats whose connection is no longer on their channel are swept out (`hasRoom`); the sweep's cost is spread over
 * `cap` seats. What to do when it is still full of live seats is the app's choice.
 */
import type { GatewayChannels } from './gateway-app.js';

export interface Seat {
  channel: string;
  conn: string;
}

export class ChannelSeats<S extends Seat> {
  private readonly seats = new Map<string, S>();

  constructor(
    readonly channels: GatewayChannels,
    private readonly cap: number,
  ) {}

  get(session: string): S | undefined {
    return this.seats.get(session);
  }

  /** Joins `seat.channel` with `seat.conn` as `member`, leaving the session's previous seat. */
  join(session: string, seat: S, member: string): void {
    this.leave(session);
    this.channels.join(seat.channel, seat.conn, member);
    this.seats.set(session, seat);
  }

  /** Leaves the session's channel and forgets its seat. */
  leave(session: string): void {
    const cur = this.seats.get(session);
    if (!cur) return;
    this.channels.leave(cur.channel, cur.conn);
    this.seats.delete(session);
  }

  /** Whether one more seat fits; at the cap, seats whose connection closed are swept out first. */
  hasRoom(): boolean {
    if (this.seats.size < this.cap) return true;
    for (const [session, s] of this.seats) if (!this.channels.has(s.channel, s.conn)) this.seats.delete(session);
    return this.seats.size < this.cap;
  }

  /** Forgets every seat without leaving its channel (the connections' close still removes them). */
  forgetAll(): void {
    this.seats.clear();
  }

  get size(): number {
    return this.seats.size;
  }
}
