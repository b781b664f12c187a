/**
 * The Pomelo-compatible protocol (docs/POMELO.md) as the generic protocol handler needs it: packages from WebSocket
 * messages or a TCP stream, and the Pomelo connection rules. Pomelo has no tickets, so a Pomelo session is anonymous
 * until the app logs in or stores data, and it ends with its connection (Pomelo's own semantics: the chat sample
 * expects `onLeave` as soon as a client is gone).
 *
 * Requests carry JSON; an app error is answered the way Pomelo's connector answers one (`{code: 500, ...}`), with the
 * gatehouse code and message added.
 */
import type { Logger } from 'pino';
import type { WireError } from '../common/errors.js';
import { ClientErrorCode, type CloseCode } from '../protocol/error-codes.js';
import type { FrameError } from '../protocol/connection-rules.js';
import {
  announcedDict,
  createPackageStreamDecoder,
  createPomeloConnectionRules,
  decodeJsonBody,
  decodePackages,
  encodeDataPackage,
  encodeJsonBody,
  PomeloErrorCode,
  PomeloProtocolError,
  type MessageEncodeOptions,
  type PackageDecodeOptions,
  type PackageStreamDecoder,
  type PomeloConnectionRules,
  type PomeloPackage,
  type PomeloRulesOptions,
} from '../protocol/pomelo/index.js';
import type { Connection, GatewayServices, ProtocolHandler } from './connection.js';
import { ProtocolConnection, type FrameSink, type WireAdapter } from './protocol-handler.js';

/** What every Pomelo connection of one gateway shares. */
interface PomeloShared {
  readonly rules: PomeloRulesOptions;
  readonly limits: PackageDecodeOptions;
  /** Compress with the dictionary the handshake announced, if any. */
  readonly encoding: MessageEncodeOptions | undefined;
  readonly log: Logger;
}

const shared = new WeakMap<GatewayServices, PomeloShared>();

function sharedOf(gw: GatewayServices): PomeloShared {
  let s = shared.get(gw);
  if (!s) {
    const { settings, log, routes } = gw;
    const dict = announcedDict(routes.dictionary);
    s = {
      rules: {
        heartbeatSeconds: Math.min(3600, Math.max(1, Math.round(settings.heartbeatMs / 1000))),
        ...(routes.dictionary && { dict: routes.dictionary }),
        handshakeTimeoutMs: settings.handshakeTimeoutMs,
        closeTimeoutMs: settings.closeTimeoutMs,
      },
      limits: { maxBodyLength: settings.maxFrameBytes },
      encoding: dict && { dict },
      log,
    };
    shared.set(gw, s);
  }
  return s;
}

export function createPomeloHandler(conn: Connection): ProtocolHandler {
  const tcp = conn.transport.kind === 'tcp';
  const s = sharedOf(conn.gw);
  return new ProtocolConnection(conn, new PomeloAdapter(s, tcp ? createPackageStreamDecoder(s.limits) : undefined));
}

const INTERNAL_JSON = encodeJsonBody({ code: 500, error: 'INTERNAL', message: 'internal server error' });

export class PomeloAdapter implements WireAdapter<PomeloPackage, Uint8Array> {
  readonly pushSlot = 'json';

  constructor(
    private readonly s: PomeloShared,
    /** The TCP package stream; undefined on WebSocket, where a message holds whole packages. */
    private readonly stream: PackageStreamDecoder | undefined,
  ) {}

  rules(now: number): PomeloConnectionRules {
    return createPomeloConnectionRules(now, this.s.rules);
  }

  read(bytes: Uint8Array, _binary: boolean, sink: FrameSink<PomeloPackage>): void {
    let packages: PomeloPackage[];
    try {
      packages = this.stream ? this.stream.push(bytes) : decodePackages(bytes, this.s.limits);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const error = err instanceof PomeloProtocolError ? err : { code: PomeloErrorCode.BadPackage, message };
      return sink.bad(error);
    }
    for (const p of packages) sink.frame(p);
  }

  oversized(): FrameError {
    return { code: ClientErrorCode.FrameTooLarge, message: `package larger than ${this.s.limits.maxBodyLength} bytes` };
  }

  encode(bytes: Uint8Array): Uint8Array {
    return bytes; // the rules send whole packages
  }

  closing(_code: CloseCode, _reason: string): undefined {
    return undefined; // the rules send a kick first where the client should hear why
  }

  requestBody(body: unknown): unknown {
    return decodeJsonBody(body as Uint8Array);
  }

  response(id: number, body: unknown): Uint8Array {
    return this.data(id, this.json(body ?? {}));
  }

  error(id: number, error: WireError): Uint8Array {
    return this.data(id, this.json({ code: 500, error: error.code, message: error.message }));
  }

  private json(value: unknown): Uint8Array {
    try {
      return encodeJsonBody(value);
    } catch (err) {
      this.s.log.warn({ err }, 'pomelo response not JSON-encodable');
      return INTERNAL_JSON;
    }
  }

  private data(id: number, body: Uint8Array): Uint8Array {
    return encodeDataPackage({ type: 'response', id, body }, this.s.encoding);
  }

  pushPayload(_route: string, body: unknown): Uint8Array {
    return encodeJsonBody(body);
  }

  pushFrame(route: string, payload: Uint8Array): Uint8Array {
    return encodeDataPackage({ type: 'push', route, body: payload }, this.s.encoding);
  }
}
