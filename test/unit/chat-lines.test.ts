/**
 * Chat lines to everyone on the room's gateway channel (chat/line-channels.ts, chat.lineFanout): a seated session's
 * line is one channel publish and no ask; a seat due for its check, a session not on the channel yet, or a line
 * behind one going through the room goes through the room (which seats again a session it lost) and keeps the order;
 * private lines always go through the room; enter, switch, leave and rebind move the session between channels.
 */
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { ChatLines, roomChannel } from '../../chat/line-channels.js';
import { rebind, SEAT_KEY, type Seat } from '../../chat/membership.js';
import { createChatRoutes } from '../../chat/routes.js';
import type { GatewayChannels, RouteContext } from '../../node-api/gateway-app.js';

function fakeChannels() {
  const calls: string[] = [];
  const published: Array<{ channel: string; route: string; body: unknown }> = [];
  /** channel → conns joined (what the gateway's channels hold; `close` drops a connection from all, as the gateway). */
  const members = new Map<string, Set<string>>();
  const channels: GatewayChannels = {
    join: (channel, conn, member) => {
      calls.push(`join ${channel} ${conn} ${member}`);
      if (!members.has(channel)) members.set(channel, new Set());
      members.get(channel)!.add(conn);
    },
    leave: (channel, conn) => {
      calls.push(`leave ${channel} ${conn}`);
      members.get(channel)?.delete(conn);
    },
    publish: (channel, route, body) => void published.push({ channel, route, body }),
    has: (channel, conn) => members.get(channel)?.has(conn) ?? false,
  };
  const close = (conn: string) => members.forEach((m) => m.delete(conn));
  return { channels, calls, published, close };
}

const CHECK = 30_000;

function setup(seat: Seat | undefined) {
  let now = 1_000;
  const ch = fakeChannels();
  const lines = new ChatLines(ch.channels, () => now, CHECK);
  const asked: Array<{ type: string; target?: string }> = [];
  /** Answers in order; one left undefined waits until `release` is called. */
  const answers: Array<((msg: { type: string }) => unknown) | undefined> = [];
  const held: Array<() => void> = [];
  let current = seat;
  const ctx = {
    session: { id: 's1', conn: { gw: 'g', id: 'c1' } },
    actors: {
      ask: async (_to: unknown, msg: { type: string }) => {
        asked.push(msg);
        const a = answers.shift();
        if (a) return a(msg);
        await new Promise<void>((r) => held.push(r));
        return null;
      },
    },
    log: silentLogger,
    get: (key: string) => (key === SEAT_KEY ? current : undefined),
    set: async (_key: string, v: unknown) => void (current = (v as Seat | null) ?? undefined),
  } as unknown as RouteContext;
  const routes = createChatRoutes(lines);
  return {
    ...ch,
    lines,
    ctx,
    asked,
    answers,
    release: () => held.shift()!(),
    advance: (ms: number) => void (now += ms),
    send: (body: unknown) => routes['chat.send']!(ctx, body),
    enter: (body: unknown) => routes['chat.enter']!(ctx, body),
    leave: () => routes['chat.leave']!(ctx, {}),
  };
}

const ok = () => null;
const entered = () => ({ users: ['ann'], count: 1 });

/** ann seated in plaza (on its channel), her seat now due for its check. */
async function seatedAndDue() {
  const t = setup(undefined);
  t.answers.push(entered);
  await t.enter({ name: 'ann', room: 'plaza' });
  t.advance(CHECK);
  return t;
}

describe('chat lines on room channels', () => {
  it('a seated session says a line to everyone with one publish on the room channel and no ask', async () => {
    const t = setup(undefined);
    t.answers.push(entered);
    await t.enter({ name: 'ann', room: 'plaza' });
    expect(t.calls).toEqual([`join ${roomChannel('plaza')} c1 s1`]);
    t.asked.length = 0;
    await expect(t.send({ content: 'hi', target: '*' })).resolves.toBeNull();
    await expect(t.send({ content: 'again' })).resolves.toBeNull();
    expect(t.asked).toEqual([]);
    expect(t.published).toEqual([
      { channel: roomChannel('plaza'), route: 'onChat', body: { msg: 'hi', from: 'ann', target: '*' } },
      { channel: roomChannel('plaza'), route: 'onChat', body: { msg: 'again', from: 'ann', target: '*' } },
    ]);
  });

  it('a private line always goes through the room', async () => {
    const t = setup(undefined);
    t.answers.push(entered, ok);
    await t.enter({ name: 'ann', room: 'plaza' });
    await t.send({ content: 'psst', target: 'bob' });
    expect(t.asked.map((m) => m.type)).toEqual(['enter', 'say']);
    expect(t.published).toEqual([]);
  });

  it('a session not on the channel (a gateway that forgot it) says its line through the room, and is on it after', async () => {
    const t = setup({ room: 'plaza', name: 'ann' });
    t.answers.push(ok);
    await t.send({ content: 'one' });
    expect(t.asked).toEqual([{ type: 'say', session: 's1', content: 'one', target: '*' }]);
    expect(t.calls).toEqual([`join ${roomChannel('plaza')} c1 s1`]);
    await t.send({ content: 'two' });
    expect(t.asked).toHaveLength(1);
    expect(t.published.map((p) => (p.body as { msg: string }).msg)).toEqual(['two']);
  });

  it('confirms the seat with its room every check interval; a room that lost the session seats it again', async () => {
    const t = setup(undefined);
    t.answers.push(entered);
    await t.enter({ name: 'ann', room: 'plaza' });
    t.advance(CHECK - 1);
    await t.send({ content: 'fresh' });
    expect(t.published).toHaveLength(1);
    t.advance(1);
    const notInRoom = () => {
      throw new GatehouseError('NOT_IN_ROOM', 'not in room');
    };
    t.answers.push(notInRoom, entered, ok);
    await expect(t.send({ content: 'due' })).resolves.toBeNull();
    expect(t.asked.map((m) => m.type)).toEqual(['enter', 'say', 'enter', 'say']);
    expect(t.published).toHaveLength(1);
    // Confirmed again: the next lines are on the channel for another interval.
    await t.send({ content: 'after' });
    expect(t.asked).toHaveLength(4);
    expect(t.published.map((p) => (p.body as { msg: string }).msg)).toEqual(['fresh', 'after']);
  });

  it('keeps a session\'s lines in order: those behind a line going through the room follow it there', async () => {
    const t = await seatedAndDue();
    const first = t.send({ content: 'check' }); // held by the room
    t.answers.push(ok);
    const second = t.send({ content: 'behind' }); // must not overtake it on the channel
    expect(t.published).toEqual([]);
    t.release();
    await Promise.all([first, second]);
    expect(t.asked.slice(1).map((m) => (m as unknown as { content: string }).content)).toEqual(['check', 'behind']);
    await t.send({ content: 'channel again' });
    expect(t.published.map((p) => (p.body as { msg: string }).msg)).toEqual(['channel again']);
  });

  it('a line answered after the session moved to another room leaves it on the new room\'s channel', async () => {
    const t = await seatedAndDue();
    const line = t.send({ content: 'slow' }); // held by the room
    t.answers.push(entered, () => ({ left: true }));
    await t.enter({ name: 'ann', room: 'garden' });
    t.release();
    await line;
    expect(t.calls.at(-1)).toBe(`join ${roomChannel('garden')} c1 s1`);
    await t.send({ content: 'here' });
    expect(t.published.map((p) => p.channel)).toEqual([roomChannel('garden')]);
  });

  it('leaves the channel when the seat is lost: the room gave the name away meanwhile', async () => {
    const t = await seatedAndDue();
    t.answers.push(
      () => {
        throw new GatehouseError('NOT_IN_ROOM', 'not in room');
      },
      () => {
        throw new GatehouseError('NAME_TAKEN', 'taken');
      },
    );
    await expect(t.send({ content: 'x' })).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    expect(t.calls).toEqual([`join ${roomChannel('plaza')} c1 s1`, `leave ${roomChannel('plaza')} c1`]);
    expect(t.lines.size).toBe(0);
  });

  it('moves between channels on a switch, leaves on leave, joins with the new connection on a rebind', async () => {
    const t = setup(undefined);
    t.answers.push(entered, entered, () => ({ left: true }));
    await t.enter({ name: 'ann', room: 'plaza' });
    await t.enter({ name: 'ann', room: 'garden' });
    expect(t.calls).toEqual([`join ${roomChannel('plaza')} c1 s1`, `leave ${roomChannel('plaza')} c1`, `join ${roomChannel('garden')} c1 s1`]);
    t.answers.push(() => ({ left: true }));
    await t.leave();
    expect(t.calls.at(-1)).toBe(`leave ${roomChannel('garden')} c1`);

    const r = setup({ room: 'plaza', name: 'ann' });
    r.answers.push(() => ({ rebound: true }));
    (r.ctx.session as { conn: { gw: string; id: string } }).conn = { gw: 'g', id: 'c2' };
    await rebind(r.ctx, r.lines);
    expect(r.calls).toEqual([`join ${roomChannel('plaza')} c2 s1`]);
  });

  it('keeps sessions past its bound off the channels: their lines go through the room, which pushes to them', () => {
    const ch = fakeChannels();
    const lines = new ChatLines(ch.channels, () => 0, CHECK, 2);
    lines.seat('a', 'c1', 'r');
    lines.seat('b', 'c2', 'r');
    lines.seat('c', 'c3', 'r');
    expect(lines.size).toBe(2);
    expect(ch.calls).toEqual([`join ${roomChannel('r')} c1 a`, `join ${roomChannel('r')} c2 b`]);
    expect(lines.say('c', 'c3', 'r', 'cat', 'hi')).toBe(false);
    expect(lines.say('a', 'c1', 'r', 'ann', 'hi')).toBe(true);
    lines.unseat('a');
    lines.seat('c', 'c3', 'r');
    expect(lines.say('c', 'c3', 'r', 'cat', 'hi')).toBe(true);
    // A session that went on on another gateway never ends here: once its connection closed, it is swept out when
    // the map is full, making room.
    ch.close('c2');
    lines.seat('d', 'c4', 'r');
    expect(lines.size).toBe(2);
    expect(lines.say('d', 'c4', 'r', 'dan', 'hi')).toBe(true);
    expect(lines.say('b', 'c2', 'r', 'ben', 'hi')).toBe(false);
  });
});
