/**
 * chat.send as a route: it answers null once the room took the line, and every refusal (a bad body, no seat, the
 * room's own) comes back as a rejected promise, never thrown at the caller; a room that lost its members seats the
 * session again and says the line once more.
 */
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { chatRoutes } from '../../chat/routes.js';
import { SEAT_KEY, type Seat } from '../../chat/membership.js';
import type { RouteContext } from '../../node-api/gateway-app.js';

function ctxWith(seat: Seat | undefined, answers: Array<(msg: { type: string }) => unknown>) {
  const asked: Array<{ type: string }> = [];
  const actors = {
    ask: async (_to: unknown, msg: { type: string }) => {
      asked.push(msg);
      return answers.shift()!(msg);
    },
  };
  const ctx = {
    session: { id: 's1', conn: { gw: 'g', id: 'c1' } },
    actors,
    log: silentLogger,
    get: (key: string) => (key === SEAT_KEY ? seat : undefined),
    set: async () => undefined,
  } as unknown as RouteContext;
  return { ctx, asked };
}

const send = chatRoutes['chat.send']!;
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (err: GatehouseError) => err.code);

describe('chat.send route', () => {
  it('answers null once the room took the line', async () => {
    const { ctx, asked } = ctxWith({ room: 'r', name: 'ann' }, [() => null]);
    await expect(send(ctx, { content: 'hi' })).resolves.toBeNull();
    expect(asked).toEqual([{ type: 'say', session: 's1', content: 'hi', target: '*' }]);
  });

  it('rejects, never throws, a bad body and a session with no seat', async () => {
    const bad = ctxWith({ room: 'r', name: 'ann' }, []).ctx;
    let p: Promise<unknown> | undefined;
    expect(() => (p = send(bad, 5))).not.toThrow();
    expect(await codeOf(p!)).toBe('BAD_REQUEST');
    expect(() => (p = send(bad, { content: '' }))).not.toThrow();
    expect(await codeOf(p!)).toBe('BAD_REQUEST');
    const seatless = ctxWith(undefined, []).ctx;
    expect(() => (p = send(seatless, { content: 'hi' }))).not.toThrow();
    expect(await codeOf(p!)).toBe('NOT_IN_ROOM');
  });

  it('seats the session again in a room that lost its members, then says the line once more', async () => {
    const notInRoom = () => {
      throw new GatehouseError('NOT_IN_ROOM', 'not in room');
    };
    const { ctx, asked } = ctxWith({ room: 'r', name: 'ann' }, [notInRoom, () => ({ users: ['ann'], count: 1 }), () => null]);
    await expect(send(ctx, { content: 'hi', target: '*' })).resolves.toBeNull();
    expect(asked.map((m) => m.type)).toEqual(['say', 'enter', 'say']);
  });

  it('passes the room refusing the line on', async () => {
    const { ctx } = ctxWith({ room: 'r', name: 'ann' }, [
      () => {
        throw new GatehouseError('NO_SUCH_USER', 'nobody');
      },
    ]);
    expect(await codeOf(send(ctx, { content: 'hi', target: 'bob' }))).toBe('NO_SUCH_USER');
  });
});
