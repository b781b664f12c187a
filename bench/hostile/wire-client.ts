/**
 * bench hostile: a minimal native-protocol WebSocket client bound to one source address (127.0.0.x), so each kind
 * of load comes from its own address and the gateway's per-address bound sees it as one host.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeFrame, type Frame } from '../../protocol/native/index.js';

const HELLO = encodeFrame({ type: 'hello', v: 1, client: 'bench-hostile' });

export interface WireClient {
  request(route: string, body?: unknown): Promise<{ ok: boolean; code?: string; body?: unknown }>;
  readonly pushes: number;
  readonly closeCode: number | undefined;
  close(): void;
}

/** Opens, says hello; resolves undefined when the server refuses or closes the connection first. */
export function openClient(url: string, localAddress: string): Promise<WireClient | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, handshakeTimeout: 10_000, maxPayload: 1 << 20 } as WebSocket.ClientOptions);
    const waiting = new Map<number, (f: Frame) => void>();
    let nextId = 1;
    let welcomed = false;
    const client = {
      pushes: 0,
      closeCode: undefined as number | undefined,
      request(route: string, body: unknown = null) {
        return new Promise<{ ok: boolean; code?: string; body?: unknown }>((res) => {
          if (ws.readyState !== WebSocket.OPEN) return res({ ok: false, code: 'CLOSED' });
          const id = nextId++;
          waiting.set(id, (f) => res(f.type === 'res' && !('error' in f && f.error) ? { ok: true, body: (f as { body?: unknown }).body } : { ok: false, code: (f as { error?: { code: string } }).error?.code ?? 'CLOSED' }));
          ws.send(encodeFrame({ type: 'req', id, route, body }));
        });
      },
      close: () => ws.terminate(),
    };
    ws.on('error', () => resolve(undefined));
    ws.on('close', (code: number) => {
      client.closeCode = code;
      for (const [, w] of waiting) w({ type: 'close', code, reason: '' } as Frame);
      waiting.clear();
      if (!welcomed) resolve(undefined);
    });
    ws.on('message', (d: Buffer) => {
      const f = decodeFrame(d, { maxFrameBytes: 1 << 20 });
      if (f.type === 'welcome') {
        welcomed = true;
        resolve(client);
      } else if (f.type === 'res') {
        const w = waiting.get(f.id);
        waiting.delete(f.id);
        w?.(f);
      } else if (f.type === 'push') client.pushes++;
    });
    ws.once('open', () => ws.send(HELLO));
  });
}

/**
 * Calls `fn` `perSecond` times a second (paced by the wall clock, catching up after a stall) for `ms`, or until it
 * has been called `max` times.
 */
export async function paced(perSecond: number, ms: number, fn: (i: number) => Promise<unknown>, max = Infinity): Promise<number> {
  const start = performance.now();
  let i = 0;
  const inflight: Promise<unknown>[] = [];
  while (performance.now() - start < ms && i < max) {
    const due = Math.floor(((performance.now() - start) * perSecond) / 1000);
    while (i <= due && i < max) inflight.push(fn(i++));
    if (inflight.length > 256) await Promise.all(inflight.splice(0));
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  await Promise.all(inflight);
  return i;
}
