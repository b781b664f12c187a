/**
 * Channels among gateways (issue 16, game-rate traffic): a message one gateway publishes once on `fan.<channel>`
 * reaches every gateway that has a connection joined to that channel, and each pushes it to its own joined
 * connections. No actor turn and no worker hop: an app uses it for traffic whose audience the gateways already know
 * (the lobby's relays: the players standing in a layer, from each gateway's copy of where its sessions stand).
 *
 * A gateway subscribes to a channel while at least one of its connections is joined, and only then: a channel costs
 * nothing on gateways without members. Membership is per connection (a connection that closes leaves every channel,
 * `dropConn`), so it cannot outlive the sockets it would push to. A connection's `member` name lets a publisher leave
 * one member out (the sender of a relay does not get its own relay back).
 *
 * The publishing gateway pushes to its own members at once, without the bus: on the bus a message from this gateway
 * (its `o`) is skipped. Given a connection of its own that does not echo (`bus` with NATS's no_echo, server/node.ts),
 * it is not even received back: at one gateway a relay then never crosses the bus at all (no message in, none out
 * but the publish that nats-server drops when no other gateway listens).
 *
 * Publishes wait for the end of the event-loop turn and leave together (`defer`, setImmediate by default): one write
 * to NATS for all the relays a turn read, instead of one per relay (as the workers batch their pushes, effect-sink.ts).
 * With a tick (`gateway.channelTickMs` > 0) they wait for it instead, from the first one held, so each waits at most
 * the tick: at game rates a turn reads one relay, and a tick gathers many into one write (the NATS server then reads
 * one buffer instead of one per relay). At most OUTBOX_BYTES wait: past that they leave at once.
 *
 * Delivery is at most once, like pushes: a member joined on a gateway whose subscription has not reached the NATS
 * server yet misses what is published meanwhile. Each message is `{o: origin node, r: route, b: body, x?: member
 * left out}`; one that does not decode is dropped and counted (`malformed`).
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import type { GatewayChannels } from '../node-api/gateway-app.js';
import type { PushCache } from './connection.js';
import type { PushTarget } from './push-handler.js';

interface ChannelMsg {
  o: string;
  r: string;
  b: unknown;
  x?: string;
}

export interface ChannelsDeps {
  /** This gateway's node id: its own messages are delivered locally, never from the bus. */
  node: string;
  bus: Pick<Bus, 'publish' | 'subscribe'>;
  connection(id: string): PushTarget | undefined;
  log: Logger;
  /** Runs `fn` after the current event-loop turn (default: setImmediate), or after a tick (gateway.ts). */
  defer?: (fn: () => void) => void;
}

/** Bytes of publishes held for the end of a turn or a tick; past this they leave at once (memory stays bounded). */
export const OUTBOX_BYTES = 64 * 1024;

export interface GatewayChannelsImpl extends GatewayChannels {
  /** A connection closed: it leaves every channel it was in. */
  dropConn(conn: string): void;
  /** Channels this gateway subscribes to now. */
  readonly subscribed: number;
  /** Counters: messages published, received, pushes made from them, messages that did not decode. */
  readonly counts: { published: number; received: number; pushed: number; malformed: number };
  stop(): void;
}

export function createChannels(deps: ChannelsDeps): GatewayChannelsImpl {
  const { node, bus, connection, log } = deps;
  const defer = deps.defer ?? ((fn: () => void) => void setImmediate(fn));
  /** Subjects and payloads published this turn, in order; they leave at its end. */
  let outbox: Array<[string, Uint8Array]> = [];
  let outboxBytes = 0;
  /** Whether a deferred send is pending (a send made early, at OUTBOX_BYTES, leaves it pending: it finds less to do). */
  let scheduled = false;
  const onDefer = () => {
    scheduled = false;
    send();
  };
  const send = () => {
    const out = outbox;
    outbox = [];
    outboxBytes = 0;
    for (const [subject, data] of out) {
      try {
        bus.publish(subject, data);
      } catch (err) {
        log.warn({ err, subject }, 'could not publish on a gateway channel');
      }
    }
  };
  /** channel → its joined connections here (conn id → member name), and the subscription held while there are any. */
  const channels = new Map<string, { members: Map<string, string>; sub: Subscription }>();
  /** conn id → the channels it is in (a connection is in one or two at a time). */
  const byConn = new Map<string, Set<string>>();
  const counts = { published: 0, received: 0, pushed: 0, malformed: 0 };

  const pushTo = (members: Map<string, string>, route: string, body: unknown, except: string | undefined) => {
    // One cache per message: each protocol's frame is encoded once for all the members it goes to.
    const cache: PushCache = {};
    for (const [conn, member] of members) {
      if (member === except) continue;
      const c = connection(conn);
      if (!c) continue;
      c.handler.push(route, body, cache);
      counts.pushed++;
    }
  };

  const received = (members: Map<string, string>, msg: BusMsg) => {
    let m: ChannelMsg;
    try {
      m = decode(msg.data) as ChannelMsg;
      if (typeof m !== 'object' || m === null || typeof m.r !== 'string') throw new Error('expected {o, r: string, b, x?}');
    } catch (err) {
      counts.malformed++;
      log.debug({ err, subject: msg.subject }, 'malformed channel message dropped');
      return;
    }
    if (m.o === node) return; // pushed here when it was published
    counts.received++;
    pushTo(members, m.r, m.b, m.x);
  };

  const leave = (channel: string, conn: string) => {
    const ch = channels.get(channel);
    if (!ch || !ch.members.delete(conn)) return;
    const mine = byConn.get(conn);
    mine?.delete(channel);
    if (mine?.size === 0) byConn.delete(conn);
    if (ch.members.size === 0) {
      channels.delete(channel);
      ch.sub.unsubscribe();
    }
  };

  return {
    join(channel, conn, member) {
      let ch = channels.get(channel);
      if (!ch) {
        const members = new Map<string, string>();
        ch = { members, sub: bus.subscribe(subjects.channel(channel), (msg) => received(members, msg)) };
        channels.set(channel, ch);
      }
      ch.members.set(conn, member);
      let mine = byConn.get(conn);
      if (!mine) byConn.set(conn, (mine = new Set()));
      mine.add(channel);
    },
    leave,
    has(channel, conn) {
      return channels.get(channel)?.members.has(conn) ?? false;
    },
    publish(channel, route, body, except) {
      const m: ChannelMsg = except === undefined ? { o: node, r: route, b: body } : { o: node, r: route, b: body, x: except };
      // Encoded first: a body that cannot be encoded fails here, before anyone got it.
      const data = encode(m);
      const local = channels.get(channel);
      if (local) pushTo(local.members, route, body, except);
      outbox.push([subjects.channel(channel), data]);
      outboxBytes += data.length;
      counts.published++;
      if (outboxBytes >= OUTBOX_BYTES) send();
      else if (!scheduled) {
        scheduled = true;
        defer(onDefer);
      }
    },
    dropConn(conn) {
      const mine = byConn.get(conn);
      if (!mine) return;
      for (const channel of [...mine]) leave(channel, conn);
    },
    get subscribed() {
      return channels.size;
    },
    counts,
    stop() {
      send();
      for (const ch of channels.values()) ch.sub.unsubscribe();
      channels.clear();
      byConn.clear();
    },
  };
}
