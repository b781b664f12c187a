/**
 * Colyseus through its own SDK (@colyseus/sdk): matchmaking `joinOrCreate('chat', {rid, name})` over HTTP, then the
 * room's WebSocket; `send('send', {content, target})`, `onChat` messages. A Colyseus client is in a room by holding
 * that room's connection, so moving is leaving one room and joining the next.
 */
import { peerRequire } from '../../peers/resolve.js';
import type { ColyseusSdk, ColyseusSdkRoom as Room } from '../../peers/colyseus-types.js';
import type { ChatHandlers, ChatOpener } from './types.js';

type Client = InstanceType<ColyseusSdk['Client']>;
const clients = new Map<string, Client>();
/** Loaded on first use from bench/peers, so a load process driving only other systems never needs it installed. */
let sdk: ColyseusSdk | undefined;

async function join(client: Client, room: string, name: string, h: ChatHandlers): Promise<Room> {
  const r = await client.joinOrCreate('chat', { rid: room, name });
  r.onMessage('onChat', (m: { msg: string }) => h.onChat(m.msg));
  // Joins and leaves of others are pushed too (the same chat as everywhere else); the bench only counts chat lines.
  r.onMessage('onAdd', () => undefined);
  r.onMessage('onLeave', () => undefined);
  r.onMessage('users', () => undefined);
  return r;
}

export const openColyseus: ChatOpener = async (url, name, room, h) => {
  let client = clients.get(url);
  if (!client) clients.set(url, (client = new (sdk ??= peerRequire<ColyseusSdk>('@colyseus/sdk')).Client(url)));
  let r = await join(client, room, name, h);
  return {
    send: (content) => {
      try {
        r.send('send', { content, target: '*' });
      } catch {
        h.onSendError();
      }
    },
    switchTo: async (to) => {
      await r.leave(true).catch(() => undefined);
      r = await join(client, to, name, h);
    },
    close: () => void r.leave(true).catch(() => undefined),
  };
};
