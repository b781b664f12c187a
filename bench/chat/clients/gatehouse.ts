/**
 * gatehouse through its own TypeScript SDK (client/node.ts), native protocol over WebSocket: `chat.enter`, then
 * `chat.send` as notify frames (no answer, as Colyseus's `room.send` and Pomelo's notify: a chat line needs none, and
 * an answer per line cost the gateway a reply and the load generator a decode); `onChat` pushes; `chat.switch` moves
 * the session on the same connection. A line the server refuses shows up as a missing delivery.
 */
import { connect } from '../../../client/node.js';
import type { ChatOpener } from './types.js';

export const openGatehouse: ChatOpener = async (url, name, room, h) => {
  // No reconnection: a dropped client must show up as missing deliveries, not be hidden by a resumed session.
  const c = await connect({ url, reconnect: false, requestTimeoutMs: 60_000, connectTimeoutMs: 60_000, client: 'bench-chat' });
  c.on('onChat', (body) => h.onChat((body as { msg: string }).msg));
  try {
    await c.request('chat.enter', { name, room });
  } catch (err) {
    void c.close();
    throw err;
  }
  const failed = () => h.onSendError();
  return {
    send: (content) => {
      if (!c.notify('chat.send', { content, target: '*' })) failed();
    },
    switchTo: async (to) => void (await c.request('chat.switch', { room: to })),
    close: () => void c.close().catch(() => undefined),
  };
};
