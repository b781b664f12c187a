/**
 * A Pomelo client speaking pomelo-protocol over `ws`, written on gatehouse's own codec (protocol/pomelo): handshake,
 * handshake-ack, heartbeats answered like the stock JS client, requests with ids, routes compressed when the server's
 * dictionary has them. Routes are the Pomelo chat sample's: `connector.entryHandler.enter {username, rid}`, then
 * `chat.chatHandler.send {rid, content, from, target}`; pushes `onChat {msg, from, target}`; plus
 * `connector.entryHandler.switch {rid}` (bench/chat/pomelo's own route) to move rooms on the same connection.
 *
 * `deflate` is what the stock setup gets: the `ws` client offers permessage-deflate by default and Pomelo's bundled
 * `ws` 1.x server accepts it, so every push is compressed. The tuned setup turns the offer off.
 */
import WebSocket from 'ws';
import {
  decodeMessage,
  decodePackages,
  encodeDataPackage,
  encodeHandshakeAck,
  encodeHandshakeRequest,
  encodeHeartbeat,
  encodeJsonBody,
  decodeJsonBody,
  parseHandshakeResponse,
  type RouteDict,
} from '../../../protocol/pomelo/index.js';
import type { ChatClient, ChatHandlers } from './types.js';

const ENTER = 'connector.entryHandler.enter';
const SWITCH = 'connector.entryHandler.switch';
const SEND = 'chat.chatHandler.send';

export function pomeloOpener(o: { deflate: boolean; enterTimeoutMs?: number }) {
  return (url: string, name: string, room: string, h: ChatHandlers): Promise<ChatClient> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: o.deflate });
      ws.binaryType = 'nodebuffer';
      let dict: RouteDict | undefined;
      let heartbeatMs = 0;
      let beat: NodeJS.Timeout | undefined;
      let nextId = 1;
      let enterId = 0;
      let done = false;
      // Requests whose answer someone waits for (enter, switch); chat sends are only checked for a refusal.
      const waiting = new Map<number, (refused: boolean) => void>();
      const timer = setTimeout(() => fail(new Error('no answer to enter')), o.enterTimeoutMs ?? 30_000);
      const fail = (e: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      const request = (route: string, body: unknown) => {
        const id = nextId++;
        if (nextId > 0x7fff_ffff) nextId = 1;
        ws.send(encodeDataPackage({ type: 'request', id, route, body: encodeJsonBody(body) }, { dict }));
        return id;
      };
      ws.once('error', fail);
      ws.once('close', () => {
        if (beat) clearTimeout(beat);
        for (const w of waiting.values()) w(true);
        waiting.clear();
        fail(new Error('closed before entering'));
      });
      ws.once('open', () => ws.send(encodeHandshakeRequest({ sys: { type: 'js-websocket', version: '0.0.1' }, user: {} })));
      ws.on('message', (data: Buffer) => {
        for (const p of decodePackages(data)) {
          if (p.type === 'handshake') {
            const hs = parseHandshakeResponse(p.body);
            if (hs.code !== 200) return fail(new Error(`handshake refused (${hs.code})`));
            dict = serverDict(hs.sys.dict ?? {});
            heartbeatMs = hs.sys.heartbeat * 1000;
            ws.send(encodeHandshakeAck());
            enterId = request(ENTER, { username: name, rid: room });
          } else if (p.type === 'heartbeat') {
            if (heartbeatMs > 0 && !beat) {
              beat = setTimeout(() => {
                beat = undefined;
                if (ws.readyState === WebSocket.OPEN) ws.send(encodeHeartbeat());
              }, heartbeatMs);
              beat.unref();
            }
          } else if (p.type === 'data') {
            const m = decodeMessage(p.body, dict);
            if (m.type === 'push') {
              if (m.route === 'onChat') h.onChat((decodeJsonBody(m.body) as { msg: string }).msg);
            } else if (m.type === 'response') {
              const body = decodeJsonBody(m.body) as { error?: boolean; code?: number };
              if (m.id === enterId && !done) {
                if (body.error || (body.code !== undefined && body.code !== 200)) return fail(new Error(`enter refused: ${JSON.stringify(body)}`));
                done = true;
                clearTimeout(timer);
                ws.off('error', fail);
                ws.on('error', () => undefined);
                resolve({
                  send: (content) => {
                    if (ws.readyState === WebSocket.OPEN) request(SEND, { rid: room, content, from: name, target: '*' });
                    else h.onSendError();
                  },
                  switchTo: (to) =>
                    new Promise<void>((res, rej) => {
                      if (ws.readyState !== WebSocket.OPEN) return rej(new Error('connection closed'));
                      waiting.set(request(SWITCH, { rid: to }), (refused) => (refused ? rej(new Error(`switch to ${to} refused`)) : res()));
                    }),
                  close: () => {
                    if (beat) clearTimeout(beat);
                    ws.terminate();
                  },
                });
              } else {
                const refused = Boolean(body.error || (body.code !== undefined && body.code !== 200));
                const w = waiting.get(m.id);
                if (w) {
                  waiting.delete(m.id);
                  w(refused);
                } else if (refused) h.onSendError();
              }
            }
          } else if (p.type === 'kick') {
            fail(new Error('kicked'));
          }
        }
      });
    });
}

/** The server's route dictionary with exactly its codes (Pomelo numbers routes in the order it loaded handlers). */
function serverDict(d: Record<string, number>): RouteDict {
  const byCode = new Map(Object.entries(d).map(([r, c]) => [c, r]));
  return {
    size: byCode.size,
    version: '',
    code: (r) => d[r],
    route: (c) => byCode.get(c),
    routeToCode: () => ({ ...d }),
    codeToRoute: () => Object.fromEntries([...byCode].map(([c, r]) => [String(c), r])),
  };
}
