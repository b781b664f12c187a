/**
 * Chat lines to a whole room fanned out at the gateways (config `chat.lineFanout`, on by default), as the lobby's
 * relays are (lobby/relay-channels.ts): a line said to everyone (`target: '*'`) is published once on the room's gateway
 * channel (gateway/channels.ts), and every gateway with a member of the room pushes it to its own. No ask, no room
 * turn, no push message from a worker: in rooms of 10 (bench chat) that per-line work was most of our JavaScript per
 * delivery, against about a third of it for Colyseus.
 *
 * The room actor stays the authority on who is in the room: enter, switch, leave, rebind, the members list, names,
 * private lines (one member by name) and onAdd/onLeave all go through it as before. A session joins its room's channel
 * once its room seated it (enter, rebind), with its current connection, and leaves it when it leaves or switches; a
 * connection that closes leaves every channel on its own.
 *
 * A room is not persisted: after its worker crashes it restarts empty, and until now members were seated again as
 * they spoke (the room answered NOT_IN_ROOM and the gateway re-entered them). Lines that never reach the room would
 * leave it empty for good, so a session's seat is confirmed by its room at least every `checkEveryMs`: its first line
 * to everyone after that goes through the room (which re-seats a session it lost), and so do the lines it says until
 * the room answered, so they keep their order. Cost: one ask per talking session per interval.
 *
 * Delivery is at most once, like every push. Lines of one session keep their order on either path; a line on the
 * channel and an onAdd/onLeave from the room travel different ways and may arrive in either order.
 */
import { ChannelSeats, type Seat } from '../node-api/channel-seats.js';
import type { GatewayChannels } from '../node-api/gateway-app.js';
import { ChatPush } from './room.machine.js';

/** The gateway channel of one room (any room name: the channel subject encodes it as one token). */
export const roomChannel = (room: string): string => `chat-${room}`;

/** How often a talking session's seat is confirmed by its room (see above). */
export const CHECK_EVERY_MS = 30_000;

interface Joined extends Seat {
  room: string;
  /** When the room last confirmed this session's seat (an enter, a rebind, a line it answered). */
  confirmedAt: number;
}

export class ChatLines {
  /** session → the room channel it joined (roomChannel(room), built once per seat), with which connection. */
  private readonly seats: ChannelSeats<Joined>;

  constructor(
    readonly channels: GatewayChannels,
    private readonly now: () => number = Date.now,
    private readonly checkEveryMs = CHECK_EVERY_MS,
    cap = 200_000,
  ) {
    this.seats = new ChannelSeats(channels, cap);
  }

  /** The room seated `session` on connection `conn` (an enter, a rebind, or a line it answered): join its channel. */
  seat(session: string, conn: string, room: string): void {
    const cur = this.seats.get(session);
    if (cur && cur.room === room && cur.conn === conn) {
      cur.confirmedAt = this.now();
      return;
    }
    // Full of live sessions: this one stays off the channels. Its lines go through its room, and it hears the room's
    // pushes (the gateway's sessions are bounded themselves; this keeps the map bounded whatever they are).
    if (!cur && !this.seats.hasRoom()) return;
    this.seats.join(session, { room, channel: roomChannel(room), conn, confirmedAt: this.now() }, session);
  }

  /** The session left its room (or ended): leave the channel. */
  unseat(session: string): void {
    this.seats.leave(session);
  }

  /**
   * Says `content` to everyone in `room` on the channel, and returns true; or returns false when this line must go
   * through the room instead: the session is not on that room's channel with this connection, or its seat is due for
   * a check. The caller then calls `seat` once the room answered. Lines said meanwhile find the seat still due and
   * go through the room too, behind that one: a session's lines keep their order.
   */
  say(session: string, conn: string, room: string, from: string, content: string): boolean {
    const cur = this.seats.get(session);
    if (!cur || cur.room !== room || cur.conn !== conn || this.now() - cur.confirmedAt >= this.checkEveryMs) return false;
    this.channels.publish(cur.channel, ChatPush.Chat, { msg: content, from, target: '*' });
    return true;
  }

  get size(): number {
    return this.seats.size;
  }
}
