/**
 * One wire protocol on one connection, whichever protocol it is: bytes → frames through the protocol's adapter
 * (native-adapter.ts, pomelo-adapter.ts), frames into the protocol's pure connection rules (run by a RulesDriver on
 * the injected clock), and their actions carried out against the connection core. Every decode failure reaches the
 * rules as `bad-frame` (they answer with an error frame or a kick, and close), never as an exception.
 *
 * Pushes are encoded once per fan-out and protocol: the first connection that needs an encoding puts it in the
 * fan-out's PushCache, the others write the same bytes.
 */
import { GatehouseError, type WireError } from '../common/errors.js';
import type { ConnectionAction, ConnectionEvent, ConnectionRules, FrameError } from '../protocol/connection-rules.js';
import { ClientErrorCode, type CloseCode } from '../protocol/error-codes.js';
import { wireError, type Connection, type ProtocolHandler, type PushCache, type RouteReply } from './connection.js';
import { RulesDriver } from './rules-driver.js';

/** Where an adapter's `read` delivers what it found in the bytes: frames in order, or why the bytes are not one. */
export interface FrameSink<In> {
  frame(frame: In): void;
  bad(error: FrameError): void;
}

/**
 * A protocol on one connection's transport, as the handler needs it. `In` is what the client sends once decoded,
 * `Out` what the rules send before encoding. Methods returning bytes return them ready for the transport.
 */
export interface WireAdapter<In, Out> {
  /** The connection's rules, with deadlines counted from `now`. */
  rules(now: number): ConnectionRules<In, Out>;
  /** One transport message (a WebSocket message, or a TCP read with any number of frames, whole or in part). */
  read(bytes: Uint8Array, binary: boolean, sink: FrameSink<In>): void;
  /** The error for a message the transport refused for its size before reading it. */
  oversized(): FrameError;
  /** A frame from the rules; undefined when it cannot be encoded (the adapter logs why). */
  encode(frame: Out): Uint8Array | undefined;
  /** What to write before closing with `code`: a close frame where the transport has none of its own. */
  closing(code: CloseCode, reason: string): Uint8Array | undefined;
  /** A request body as the route gets it; throws when it is not one (answered BAD_REQUEST). */
  requestBody(body: unknown): unknown;
  response(id: number, body: unknown): Uint8Array;
  error(id: number, error: WireError): Uint8Array;
  /** The PushCache slot holding this protocol's push payload. */
  readonly pushSlot: 'native' | 'json';
  /** The payload shared by every connection of this protocol in a fan-out; throws when it cannot be encoded. */
  pushPayload(route: string, body: unknown): Uint8Array;
  /** The bytes for this connection from the shared payload (a TCP prefix, a Pomelo data package); may throw. */
  pushFrame(route: string, payload: Uint8Array, cache: PushCache): Uint8Array;
}

const TRANSPORT_CLOSED: ConnectionEvent = Object.freeze({ type: 'transport-closed' });
const NOT_JSON: WireError = Object.freeze({ code: ClientErrorCode.BadRequest, message: 'body is not JSON' });

export class ProtocolConnection<In, Out> implements ProtocolHandler, FrameSink<In>, RouteReply {
  private readonly driver: RulesDriver<In, Out>;

  constructor(
    private readonly conn: Connection,
    private readonly wire: WireAdapter<In, Out>,
  ) {
    const clock = conn.gw.clock;
    this.driver = new RulesDriver(clock, wire.rules(clock.now()), (actions) => this.execute(actions));
  }

  receive(bytes: Uint8Array, binary: boolean): void {
    const phase = this.driver.rules.phase;
    if (phase === 'closing' || phase === 'closed') return;
    this.wire.read(bytes, binary, this);
  }

  frame(frame: In): void {
    this.driver.receive(frame);
  }

  bad(error: FrameError): void {
    this.conn.gw.metrics.badFrames++;
    this.driver.handle({ type: 'bad-frame', error });
  }

  oversized(): void {
    this.bad(this.wire.oversized());
  }

  push(route: string, body: unknown, cache: PushCache): void {
    if (this.driver.rules.phase !== 'open') return;
    const { wire, conn } = this;
    const { metrics, log } = conn.gw;
    let payload = cache[wire.pushSlot];
    if (payload === undefined) {
      try {
        payload = wire.pushPayload(route, body);
      } catch (err) {
        payload = null;
        log.warn({ err, route }, 'push not encodable (too large, bad route or body): dropped');
      }
      cache[wire.pushSlot] = payload;
    }
    let bytes: Uint8Array | undefined;
    if (payload !== null) {
      try {
        bytes = wire.pushFrame(route, payload, cache);
      } catch (err) {
        log.warn({ err, route }, 'push route not encodable for this protocol: dropped');
      }
    }
    if (bytes === undefined) {
      metrics.pushesDropped++;
      return;
    }
    metrics.pushes++;
    conn.write(bytes);
  }

  close(code: number, reason: string): void {
    this.driver.handle({ type: 'close', code: code as CloseCode, reason });
  }

  transportClosed(): void {
    this.driver.handle(TRANSPORT_CLOSED);
  }

  private execute(actions: ConnectionAction<Out>[]): void {
    const conn = this.conn;
    for (const a of actions) {
      switch (a.type) {
        case 'send': {
          const bytes = this.wire.encode(a.frame);
          if (bytes !== undefined) conn.write(bytes);
          break;
        }
        case 'authenticate':
          this.authenticate(a.ticket, a.credential);
          break;
        case 'open':
          if (a.anonymous) conn.anonymous();
          conn.opened();
          break;
        case 'dispatch':
          this.dispatch(a.id, a.route, a.body);
          break;
        case 'close': {
          const bye = this.wire.closing(a.code, a.reason);
          if (bye !== undefined) conn.write(bye);
          // A WebSocket close frame carries at most 123 bytes of reason; 40 UTF-16 units always fit.
          conn.transport.close(a.code, a.reason.length > 40 ? a.reason.slice(0, 40) : a.reason);
          break;
        }
        case 'destroy':
          conn.transport.destroy();
          break;
        case 'ended':
          this.driver.dispose();
          conn.ended(a.resumable);
          break;
        case 'handshake':
          break;
      }
    }
  }

  private authenticate(ticket: string | undefined, credential: string | undefined): void {
    this.conn.hello(ticket, credential).then(
      (w) => this.driver.handle({ type: 'accept', ...w }),
      (err: unknown) => {
        const e = wireError(err);
        this.driver.handle({ type: 'reject', code: e.code as ClientErrorCode, message: e.message });
      },
    );
  }

  private dispatch(id: number | undefined, route: string, raw: unknown): void {
    let body: unknown;
    try {
      body = this.wire.requestBody(raw);
    } catch (err) {
      // The codec's message says what is wrong (not JSON, not UTF-8, nested past the limit); nothing else leaks.
      const known = err instanceof GatehouseError ? { code: ClientErrorCode.BadRequest, message: err.message } : NOT_JSON;
      if (id !== undefined) this.answer(id, undefined, known);
      return;
    }
    // A notify (no id: native `notify`, Pomelo notify) takes the same route with nothing to answer. The clock reading
    // the frame was applied at serves the request's limits and deadline too (a read per request less: issue 16).
    this.conn.request(route, body, id, this, this.driver.now);
  }

  /** Answers request `id` while the connection is open; a late answer to a closing connection is dropped. */
  answer(id: number, body: unknown, error: WireError | undefined): void {
    if (this.driver.rules.phase !== 'open') return;
    this.conn.write(error === undefined ? this.wire.response(id, body) : this.wire.error(id, error));
  }
}
