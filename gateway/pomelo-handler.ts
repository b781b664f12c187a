/**
 * The Pomelo-compatible protocol on one connection (docs/POMELO.md): packages from WebSocket messages or a TCP stream
 * into the pure Pomelo session, its actions carried out here. Pomelo has no tickets, so a Pomelo session is
 * anonymous until the app logs in or stores data, and it ends with its connection (Pomelo's own semantics: the chat
 * sample expects `onLeave` as soon as a client is gone).
 *
 * Requests carry JSON; an app error is answered the way Pomelo's connector answers one (`{code: 500, ...}`), with the
 * gatehouse code and message added.
 */
import { CloseCode } from '../protocol/error-codes.js';
import {
  createPackageStreamDecoder,
  createPomeloSession,
  decodeJsonBody,
  decodePackages,
  encodeJsonBody,
  encodeKick,
  SessionCloseCode,
  type PomeloPackage,
  type SessionAction,
} from '../protocol/pomelo/index.js';
import type { TimerHandle } from '../common/clock.js';
import { wireError, type Connection, type ProtocolHandler, type PushCache } from './connection.js';

const CLOSE_BY_REASON: Readonly<Record<string, number>> = {
  [SessionCloseCode.HeartbeatTimeout]: CloseCode.HeartbeatTimeout,
  [SessionCloseCode.HandshakeTimeout]: CloseCode.HandshakeTimeout,
  [SessionCloseCode.PackageTooLarge]: CloseCode.FrameTooLarge,
  [SessionCloseCode.UnexpectedPackage]: CloseCode.ProtocolViolation,
  [SessionCloseCode.ClientRefused]: CloseCode.UnsupportedVersion,
  [SessionCloseCode.Kicked]: CloseCode.Kicked,
};

export function createPomeloHandler(conn: Connection): ProtocolHandler {
  const { settings, clock, log, metrics, routes } = conn.gw;
  const tcp = conn.transport.kind === 'tcp';
  const maxBodyLength = settings.maxFrameBytes;
  const stream = tcp ? createPackageStreamDecoder({ maxBodyLength }) : undefined;
  const session = createPomeloSession({
    clock,
    heartbeatSeconds: Math.min(3600, Math.max(1, Math.round(settings.heartbeatMs / 1000))),
    dict: routes.dictionary,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
  });
  let timer: TimerHandle | undefined;
  let timerAt = Infinity;
  let closing = false;
  /** Close code for a kick we asked for (the session only knows "KICKED"). */
  let kickCode: number = CloseCode.Kicked;

  // One lazily re-armed timer, as the native rules do: a deadline that moved later is found when the timer fires.
  function arm(): void {
    const deadline = session.deadline;
    if (deadline === undefined) return disarm();
    if (deadline >= timerAt) return;
    disarm();
    timerAt = deadline;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      run(session.tick());
    }, Math.max(0, deadline - clock.now()));
  }

  function disarm(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }

  function run(actions: SessionAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          conn.write(a.bytes);
          break;
        case 'ready':
          conn.anonymous();
          conn.opened();
          break;
        case 'message':
          dispatch(a.message.type === 'request' ? a.message.id : undefined, a.message.route, a.message.body);
          break;
        case 'close':
          shut(a.code === SessionCloseCode.Kicked ? kickCode : (CLOSE_BY_REASON[a.code] ?? CloseCode.BadFrame), a.reason);
          break;
        case 'handshake':
          break;
      }
    }
    if (!closing) arm();
  }

  /** Closes after what was sent; a peer that does not let go within the close timeout is dropped. */
  function shut(code: number, reason: string): void {
    if (closing) return;
    closing = true;
    disarm();
    conn.transport.close(code, reason.slice(0, 40));
    timer = clock.setTimeout(() => conn.transport.destroy(), settings.closeTimeoutMs);
  }

  function dispatch(id: number | undefined, route: string, raw: Uint8Array): void {
    let body: unknown;
    try {
      body = decodeJsonBody(raw);
    } catch {
      if (id !== undefined) answer(id, { code: 500, error: 'BAD_REQUEST', message: 'body is not JSON' });
      return;
    }
    conn.request(route, body).then(
      (res) => {
        if (id !== undefined) answer(id, res ?? {});
      },
      (err: unknown) => {
        const e = wireError(err);
        if (id !== undefined) answer(id, { code: 500, error: e.code, message: e.message });
      },
    );
  }

  function answer(id: number, res: unknown): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeJsonBody(res);
    } catch (err) {
      log.warn({ err }, 'pomelo response not JSON-encodable');
      bytes = encodeJsonBody({ code: 500, error: 'INTERNAL', message: 'internal server error' });
    }
    run(session.respond(id, bytes));
  }

  /** Framing is lost: say why (a kick the stock client shows) and close. */
  function badFraming(reason: string, code: number): void {
    metrics.badFrames++;
    conn.write(encodeKick(reason));
    session.closed();
    shut(code, reason);
  }

  return {
    oversized() {
      if (!closing) badFraming(`package larger than ${maxBodyLength} bytes`, CloseCode.FrameTooLarge);
    },
    receive(bytes) {
      if (closing) return;
      let packages: PomeloPackage[];
      try {
        packages = stream ? stream.push(bytes) : decodePackages(bytes, { maxBodyLength });
      } catch (err) {
        badFraming((err as Error).message, CloseCode.BadFrame);
        return;
      }
      for (const p of packages) {
        run(session.receive(p));
        if (closing) return;
      }
    },
    push(route, body, cache: PushCache) {
      if (closing || session.state !== 'working') return;
      if (cache.json === undefined) {
        try {
          cache.json = encodeJsonBody(body);
        } catch (err) {
          cache.json = null;
          log.warn({ err, route }, 'push body not JSON-encodable: dropped');
        }
      }
      if (cache.json === null) {
        metrics.pushesDropped++;
        return;
      }
      try {
        run(session.push(route, cache.json));
        metrics.pushes++;
      } catch (err) {
        metrics.pushesDropped++;
        log.warn({ err, route }, 'push route not encodable for Pomelo: dropped');
      }
    },
    close(code, reason) {
      kickCode = code;
      run(session.kick(reason));
    },
    transportClosed() {
      session.closed();
      disarm();
      closing = true;
      conn.ended(false);
    },
  };
}
