/**
 * Relays fanned out at the gateways (issue 16; config `lobby.relayFanout`): a relay is published once on its layer's
 * gateway channel (gateway/channels.ts) instead of told to the layer actor, and every gateway with a session standing
 * in that layer pushes it to its own. No worker turn, no push message from a worker: at 600 bots the worker's turn and
 * the extra bus hop were about half of a relay's server CPU.
 *
 * The audience is what each gateway knows of its sessions (`SessionLocs`, player-link.ts: the record's answer after
 * every move, in order), the same copy the relay's target came from before, so who hears a relay is unchanged: the
 * players whose record says they stand in the sender's layer, the sender left out. A session joins its layer's
 * channel with its current connection whenever its location is set here, leaves it on a move and at the session's
 * end; a connection that closes leaves on its own (the gateway drops closed connections from every channel), and a
 * resumed session joins again from the record's `where`.
 */
import { ChannelSeats, type Seat } from '../node-api/channel-seats.js';
import type { GatewayChannels } from '../node-api/gateway-app.js';

/** The channel of one layer (one subject token: layer ids are plain). */
export const layerChannel = (layer: string): string => `lobby-${layer}`;

export class RelayChannels {
  /** session → the channel it joined and with which connection. Bounded: past `cap` the closed ones are swept out. */
  private readonly seats: ChannelSeats<Seat>;

  constructor(
    readonly channels: GatewayChannels,
    cap = 200_000,
  ) {
    this.seats = new ChannelSeats(channels, cap);
  }

  /** The session (on connection `conn`, player `member`) now stands at the end of `loc` (nowhere when empty). */
  place(session: string, conn: string, member: string, loc: readonly string[]): void {
    const layer = loc[loc.length - 1];
    const channel = layer === undefined ? undefined : layerChannel(layer);
    const cur = this.seats.get(session);
    if (cur && cur.channel === channel && cur.conn === conn) return;
    this.seats.leave(session);
    if (channel === undefined) return;
    // Live sessions are at most this gateway's connections, far fewer than `cap`; should they fill it anyway,
    // forgetting them leaves them joined (the connection's close still removes them), never the reverse.
    if (!this.seats.hasRoom()) this.seats.forgetAll();
    this.seats.join(session, { channel, conn }, member);
  }

  forget(session: string): void {
    this.seats.leave(session);
  }

  /** One publish: every gateway with members in the layer pushes it to them, `from` left out. */
  relay(layer: string, route: string, from: string, d: unknown): void {
    this.channels.publish(layerChannel(layer), route, { f: from, d }, from);
  }

  get size(): number {
    return this.seats.size;
  }
}
