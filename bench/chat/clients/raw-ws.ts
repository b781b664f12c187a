/**
 * The raw `ws` baseline's client: JSON text frames, `join` (again to move) then `say`; the server sends
 * `{msg, from, target}`.
 */
import WebSocket from 'ws';
import type { ChatOpener } from './types.js';

export const openRawWs: ChatOpener = (url, name, room, h) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let joined: (() => void) | undefined;
    const join = (to: string) =>
      new Promise<void>((r) => {
        joined = r;
        ws.send(JSON.stringify({ t: 'join', name, room: to }));
      });
    ws.once('error', reject);
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { t?: string; msg?: string };
      if (m.msg !== undefined) h.onChat(m.msg);
      else if (m.t === 'joined') joined?.();
    });
    ws.once('open', () =>
      join(room).then(() => {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve({
          send: (content) => (ws.readyState === WebSocket.OPEN ? ws.send(JSON.stringify({ t: 'say', content })) : h.onSendError()),
          switchTo: join,
          close: () => ws.terminate(),
        });
      }),
    );
  });
