/**
 * gatehouse through its own TypeScript SDK (client/node.ts), native protocol over WebSocket: `chat.enter`, then
 * `chat.send` requests; `onChat` pushes; `chat.switch` moves the session on the same connection.
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
    send: (content) => void c.request('chat.send', { content, target: '*' }).catch(failed),
    switchTo: async (to) => void (await c.request('chat.switch', { room: to })),
    close: () => void c.close().catch(() => undefined),
  };
};
