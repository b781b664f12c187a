/**
 * The SDK's view of a socket: bytes in, bytes out, close with a code. Browsers and Node's `ws` both offer the WHATWG
 * WebSocket API, so one adapter serves both; Node's TCP transport (node.ts) implements the same interface.
 */
export interface ClientSocket {
  send(bytes: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: () => void;
  onmessage: (bytes: Uint8Array) => void;
  /** `code` is the WebSocket close code (1006 when the connection just dropped). */
  onclose: (code: number, reason: string) => void;
}

export type SocketOpener = (url: string) => ClientSocket;

/** The part of the WHATWG WebSocket API the SDK uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export function webSocketOpener(WS: WebSocketConstructor): SocketOpener {
  return (url) => {
    const ws = new WS(url);
    ws.binaryType = 'arraybuffer';
    const s: ClientSocket = {
      send: (bytes) => {
        if (ws.readyState === 1) ws.send(bytes);
      },
      close: (code, reason) => {
        try {
          ws.close(code, reason);
        } catch {
          ws.close();
        }
      },
      onopen: () => undefined,
      onmessage: () => undefined,
      onclose: () => undefined,
    };
    ws.onopen = () => s.onopen();
    ws.onmessage = (ev) => {
      const b = bytesOf(ev.data);
      // A text message is not a frame: hand the core something it will refuse as BAD_FRAME.
      s.onmessage(b ?? new Uint8Array(0));
    };
    // A close event follows an error; without a reason of its own it carries the error's (a refused certificate).
    let lastError = '';
    ws.onclose = (ev) => s.onclose(ev.code, ev.reason || lastError);
    ws.onerror = (ev) => {
      const m = (ev as { message?: unknown } | null)?.message;
      if (typeof m === 'string') lastError = m;
    };
    return s;
  };
}
