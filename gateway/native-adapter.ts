/**
 * The native protocol (docs/PROTOCOL.md) as the generic protocol handler needs it: MessagePack frames, one per
 * WebSocket message or length-prefixed on TCP, and the native connection rules.
 */
import type { Logger } from 'pino';
import type { WireError } from '../common/errors.js';
import {
  ClientErrorCode,
  createNativeConnectionRules,
  createTcpFrameDecoder,
  decodeFrame,
  defaultConnectionConfig,
  encodeFrame,
  encodeTcp,
  ProtocolError,
  type CloseCode,
  type ConnectionConfig,
  type ConnectionRules,
  type FrameError,
  type Frame,
  type FrameLimits,
  type ResFrame,
  type TcpFrameDecoder,
} from '../protocol/native/index.js';
import { encodePushFast, encodeResFast } from '../protocol/native/fast-res.js';
import type { Connection, GatewayServices, ProtocolHandler, PushCache } from './connection.js';
import { ProtocolConnection, type FrameSink, type WireAdapter } from './protocol-handler.js';

/** What every native connection of one gateway shares. */
interface NativeShared {
  readonly limits: FrameLimits;
  readonly config: ConnectionConfig;
  readonly log: Logger;
  readonly maxFrameBytes: number;
}

const shared = new WeakMap<GatewayServices, NativeShared>();

function sharedOf(gw: GatewayServices): NativeShared {
  let s = shared.get(gw);
  if (!s) {
    const { settings, log } = gw;
    const config: ConnectionConfig = {
      ...defaultConnectionConfig,
      heartbeatMs: settings.heartbeatMs,
      maxFrameBytes: settings.maxFrameBytes,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
    };
    s = { limits: { maxFrameBytes: settings.maxFrameBytes }, config, log, maxFrameBytes: settings.maxFrameBytes };
    shared.set(gw, s);
  }
  return s;
}

export function createNativeHandler(conn: Connection): ProtocolHandler {
  const tcp = conn.transport.kind === 'tcp';
  const s = sharedOf(conn.gw);
  return new ProtocolConnection(conn, new NativeAdapter(s, tcp ? createTcpFrameDecoder(s.limits) : undefined));
}

const asProtocolError = (err: unknown): ProtocolError =>
  err instanceof ProtocolError ? err : new ProtocolError(ClientErrorCode.BadFrame, 'malformed frame', { cause: err });

export class NativeAdapter implements WireAdapter<Frame, Frame> {
  readonly pushSlot = 'native';

  constructor(
    private readonly s: NativeShared,
    /** The TCP deframer; undefined on WebSocket, where each message is one frame. */
    private readonly tcp: TcpFrameDecoder | undefined,
  ) {}

  rules(now: number): ConnectionRules<Frame, Frame> {
    return createNativeConnectionRules(now, this.s.config);
  }

  read(bytes: Uint8Array, binary: boolean, sink: FrameSink<Frame>): void {
    if (!binary) {
      return sink.bad(new ProtocolError(ClientErrorCode.BadFrame, 'frames are binary WebSocket messages, not text'));
    }
    if (!this.tcp) return this.decode(bytes, sink);
    let frames: Uint8Array[];
    try {
      frames = this.tcp.push(bytes);
    } catch (err) {
      return sink.bad(asProtocolError(err));
    }
    for (const f of frames) this.decode(f, sink);
  }

  private decode(bytes: Uint8Array, sink: FrameSink<Frame>): void {
    let f: Frame;
    try {
      f = decodeFrame(bytes, this.s.limits);
    } catch (err) {
      sink.bad(asProtocolError(err));
      return;
    }
    sink.frame(f);
  }

  oversized(): FrameError {
    return new ProtocolError(ClientErrorCode.FrameTooLarge, `frame exceeds ${this.s.maxFrameBytes} bytes`);
  }

  encode(frame: Frame): Uint8Array | undefined {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame, this.s.limits);
    } catch (err) {
      this.s.log.warn({ err, frame: frame.type }, 'native frame not encodable: dropped');
      return undefined;
    }
    return this.tcp ? encodeTcp(bytes) : bytes;
  }

  closing(code: CloseCode, reason: string): Uint8Array | undefined {
    // WebSocket carries the code in its close frame; TCP has only a `close` frame before the end of the stream.
    return this.tcp ? this.encode({ type: 'close', code, reason }) : undefined;
  }

  requestBody(body: unknown): unknown {
    return body;
  }

  response(id: number, body: unknown): Uint8Array {
    // Plain bodies are written by hand, to the byte what encodeFrame writes (fast-res.ts); the rest as before.
    const fast = encodeResFast(id, body === undefined ? null : body, this.s.maxFrameBytes);
    if (fast !== undefined) return this.tcp ? encodeTcp(fast) : fast;
    return this.res({ type: 'res', id, body: body === undefined ? null : body });
  }

  error(id: number, error: WireError): Uint8Array {
    return this.res({ type: 'res', id, error });
  }

  /** Only a response can fail to encode here (its body is the app's): the client still gets an answer for its id. */
  private res(frame: ResFrame): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame, this.s.limits);
    } catch (err) {
      const tooLarge = (err as ProtocolError).code === ClientErrorCode.FrameTooLarge;
      const code = tooLarge ? ClientErrorCode.FrameTooLarge : ClientErrorCode.Internal;
      const message = tooLarge ? 'response exceeds the maximum frame size' : 'response not encodable';
      if (!tooLarge) this.s.log.warn({ err }, 'route returned a body the protocol cannot carry');
      bytes = encodeFrame({ type: 'res', id: frame.id, error: { code, message } }, this.s.limits);
    }
    return this.tcp ? encodeTcp(bytes) : bytes;
  }

  pushPayload(route: string, body: unknown): Uint8Array {
    // Plain bodies by hand, as for responses (fast-res.ts: the same bytes); encodeFrame refuses the rest as before.
    const fast = encodePushFast(route, body === undefined ? null : body, this.s.maxFrameBytes);
    if (fast !== undefined) return fast;
    return encodeFrame({ type: 'push', route, body }, this.s.limits);
  }

  pushFrame(_route: string, payload: Uint8Array, cache: PushCache): Uint8Array {
    return this.tcp ? (cache.nativeTcp ??= encodeTcp(payload)) : payload;
  }
}
