/**
 * The Pomelo chat sample's routes, so that sample's own client talks to gatehouse unchanged. Same rooms, same
 * membership logic as the native routes; only the request and response shapes are the sample's:
 *
 *   gate.gateHandler.queryEntry   {uid}                        → {code:200, host, port} | {code:500}
 *   connector.entryHandler.enter  {username, rid}              → {users:[…]} | {code:500, error:true} on a duplicate
 *   chat.chatHandler.send         {rid, content, from, target} → {route}
 *
 * The sample's client trusts nothing it sends: `from` and `rid` are ignored in favour of the session's seat, so a
 * client cannot speak under another name or into a room it is not in. Leaving on disconnect is the session-end hook.
 */
import { isObject } from '../common/is-object.js';
import { badRequest } from '../node-api/app-error.js';
import type { RouteContext, RouteHandler } from '../node-api/gateway-app.js';
import { GatehouseError } from '../common/errors.js';
import { ClientErrorCode } from '../protocol/error-codes.js';
import { ChatErrorCode } from './errors.js';
import type { ChatLines } from './line-channels.js';
import { say, serial, takeSeat } from './membership.js';
import { checkContent, checkName, checkRoom, checkTarget } from './validate.js';

/** Where a Pomelo client should connect: the Pomelo port of a gateway. */
export interface PomeloEntry {
  host: string;
  port: number;
}

export interface PomeloChatOptions {
  /** Chooses the gateway for a client. Default: the gateway's entry endpoint (least loaded), its Pomelo port. */
  entry?(ctx: RouteContext, uid: string): PomeloEntry | Promise<PomeloEntry>;
  /** A gateway's chat lines on room channels (chat.lineFanout; chat/line-channels.ts). */
  lines?: ChatLines;
}

/**
 * Pomelo's gate hashes the uid over a static connector list; gatehouse hands out the least-loaded gateway instead, so
 * a new gateway takes new clients at once. The uid plays no part: any gateway reaches every room.
 */
async function gatewayEntry(ctx: RouteContext): Promise<PomeloEntry> {
  if (!ctx.entry) throw new GatehouseError(ClientErrorCode.Unavailable, 'this gateway has no entry endpoint');
  const e = await ctx.entry('pomelo');
  return { host: e.host, port: e.port };
}

export const POMELO_CHAT_ROUTES = ['gate.gateHandler.queryEntry', 'connector.entryHandler.enter', 'chat.chatHandler.send'] as const;
/** Handler routes then push routes: what the gateway puts in the Pomelo route dictionary. */
export const POMELO_CHAT_DICTIONARY: string[] = [...POMELO_CHAT_ROUTES, 'onChat', 'onAdd', 'onLeave'];

function fields(v: unknown): Record<string, unknown> {
  if (!isObject(v)) throw badRequest('body must be a JSON object');
  return v;
}

export function pomeloChatRoutes(o: PomeloChatOptions = {}): Record<string, RouteHandler> {
  const entry = o.entry ?? gatewayEntry;
  return {
    'gate.gateHandler.queryEntry': async (ctx, raw) => {
      const uid = isObject(raw) ? raw.uid : undefined;
      // The sample answers a missing uid with a bare 500 and the client shows its "user name" error.
      if (typeof uid !== 'string' || uid.length === 0) return { code: 500 };
      const { host, port } = await entry(ctx, uid);
      return { code: 200, host, port };
    },
    'connector.entryHandler.enter': async (ctx, raw) => {
      const b = fields(raw);
      const bad = checkName(b.username, 'username') ?? checkRoom(b.rid, 'rid');
      if (bad) throw badRequest(bad);
      try {
        return await serial(ctx.session.id, () => takeSeat(ctx, { name: b.username as string, room: b.rid as string }, o.lines));
      } catch (err) {
        if ((err as GatehouseError).code === ChatErrorCode.NameTaken) return { code: 500, error: true };
        throw err;
      }
    },
    'chat.chatHandler.send': async (ctx, raw) => {
      const b = fields(raw);
      const bad = checkContent(b.content) ?? checkTarget(b.target);
      if (bad) throw badRequest(bad);
      await say(ctx, b.content as string, b.target as string, o.lines);
      return { route: 'chat.chatHandler.send' };
    },
  };
}
