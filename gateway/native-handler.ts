/**
 * The native protocol on one connection: bytes → frames (protocol/native codec, TCP length prefix), the pure session
 * rules (handshake, heartbeat, closing) driven by the injected clock, and their actions carried out against the
 * connection core. Every decode failure becomes an `error` frame and a close through the rules, never an exception.
 */
import {
  ClientErrorCode,
  createSessionRules,
  createTcpFrameDecoder,
  decodeFrame,
  encodeFrame,
  encodeTcp,
  ProtocolError,
  type Frame,
  type ReqFrame,
  type SessionAction,
  type SessionRules,
} from '../protocol/native/index.js';
import { wireError, type Connection, type ProtocolHandler, type PushCache } from './connection.js';

export function createNativeHandler(conn: Connection): ProtocolHandler {
  const { settings, clock, log, metrics } = conn.gw;
  const limits = { maxFrameBytes: settings.maxFrameBytes };
  const tcp = conn.transport.kind === 'tcp';
  const deframer = tcp ? createTcpFrameDecoder(limits) : undefined;
  let rules: SessionRules;

  const writeFrame = (bytes: Uint8Array) => conn.write(tcp ? encodeTcp(bytes) : bytes);

  function send(frame: Frame): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame, limits);
    } catch (err) {
      // Only a response can fail here (its body is the app's): the client still gets an answer for its id.
      if (frame.type !== 'res') {
        log.warn({ err, frame: frame.type }, 'native frame not encodable: dropped');
        return;
      }
      const code = (err as ProtocolError).code === ClientErrorCode.FrameTooLarge ? ClientErrorCode.FrameTooLarge : ClientErrorCode.Internal;
      const message = code === ClientErrorCode.FrameTooLarge ? 'response exceeds the maximum frame size' : 'response not encodable';
      if (code === ClientErrorCode.Internal) log.warn({ err }, 'route returned a body the protocol cannot carry');
      bytes = encodeFrame({ type: 'res', id: frame.id, error: { code, message } }, limits);
    }
    writeFrame(bytes);
  }

  function dispatch(req: ReqFrame): void {
    conn.request(req.route, req.body).then(
      (body) => {
        if (rules.state.phase === 'open') send({ type: 'res', id: req.id, body: body === undefined ? null : body });
      },
      (err: unknown) => {
        if (rules.state.phase === 'open') send({ type: 'res', id: req.id, error: wireError(err) });
      },
    );
  }

  function execute(actions: SessionAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          send(a.frame);
          break;
        case 'authenticate':
          conn.hello(a.hello.ticket).then(
            (w) => {
              rules.handle({ type: 'accept', ...w });
              if (rules.state.phase === 'open') conn.opened();
            },
            (err: unknown) => {
              const e = wireError(err);
              rules.handle({ type: 'reject', code: e.code as ClientErrorCode, message: e.message });
            },
          );
          break;
        case 'dispatch':
          dispatch(a.req);
          break;
        case 'close':
          // WebSocket carries the code in its close frame; TCP has only a `close` frame before the end of the stream.
          if (tcp) send({ type: 'close', code: a.code, reason: a.reason });
          conn.transport.close(a.code, a.reason);
          break;
        case 'destroy':
          conn.transport.destroy();
          break;
        case 'ended':
          rules.dispose();
          conn.ended(a.resumable);
          break;
      }
    }
  }

  rules = createSessionRules({
    clock,
    execute,
    config: {
      heartbeatMs: settings.heartbeatMs,
      maxFrameBytes: settings.maxFrameBytes,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
    },
  });

  function frame(bytes: Uint8Array): void {
    let f: Frame;
    try {
      f = decodeFrame(bytes, limits);
    } catch (err) {
      badFrame(err);
      return;
    }
    rules.handle({ type: 'frame', frame: f });
  }

  function badFrame(err: unknown): void {
    metrics.badFrames++;
    const error = err instanceof ProtocolError ? err : new ProtocolError(ClientErrorCode.BadFrame, 'malformed frame', { cause: err });
    rules.handle({ type: 'bad-frame', error });
  }

  return {
    receive(bytes, binary) {
      if (rules.state.phase === 'closing' || rules.state.phase === 'closed') return;
      if (!binary) return badFrame(new ProtocolError(ClientErrorCode.BadFrame, 'frames are binary WebSocket messages, not text'));
      if (!deframer) return frame(bytes);
      let frames: Uint8Array[];
      try {
        frames = deframer.push(bytes);
      } catch (err) {
        return badFrame(err);
      }
      for (const f of frames) frame(f);
    },
    oversized() {
      badFrame(new ProtocolError(ClientErrorCode.FrameTooLarge, `frame exceeds ${settings.maxFrameBytes} bytes`));
    },
    push(route, body, cache: PushCache) {
      if (rules.state.phase !== 'open') return;
      if (cache.native === undefined) {
        try {
          cache.native = encodeFrame({ type: 'push', route, body }, limits);
        } catch (err) {
          cache.native = null;
          log.warn({ err, route }, 'push not encodable (too large or bad route): dropped');
        }
      }
      if (cache.native === null) {
        metrics.pushesDropped++;
        return;
      }
      metrics.pushes++;
      conn.write(tcp ? (cache.nativeTcp ??= encodeTcp(cache.native)) : cache.native);
    },
    close(code, reason) {
      rules.handle({ type: 'close', code: code as never, reason });
    },
    transportClosed() {
      rules.handle({ type: 'transport-closed' });
    },
  };
}
