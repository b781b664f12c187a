/**
 * Node-addressed control: each node answers requests on `sys.ctl.<node>` (move-in, probe, hand-over, drain, status).
 * Replies use the actor reply format ({ok, v} / {ok:false, e:{code,message}}), so errors keep their codes.
 */
import type { Logger } from 'pino';
import type { Bus, Subscription } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import { ErrorCode, GatehouseError, errorMessage, fromWire } from '../common/errors.js';
import { decodeReply, encodeReply } from '../actors/runtime/envelope.js';

export type ControlHandler = (body: Record<string, unknown>) => Promise<unknown>;

export const CONTROL_TOPIC = 'ctl';

export class Control {
  private readonly handlers = new Map<string, ControlHandler>();
  private sub?: Subscription;

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  handle(type: string, fn: ControlHandler): void {
    this.handlers.set(type, fn);
  }

  start(): void {
    this.sub = this.bus.subscribe(subjects.sys(CONTROL_TOPIC, this.nodeId), (m) => {
      let body: Record<string, unknown>;
      try {
        body = decode<Record<string, unknown>>(m.data);
      } catch (err) {
        this.bus.respond(m, encodeReply({ ok: false, e: { code: ErrorCode.BadMessage, message: errorMessage(err) } }));
        return;
      }
      const fn = typeof body?.type === 'string' ? this.handlers.get(body.type) : undefined;
      if (!fn) {
        this.bus.respond(m, encodeReply({ ok: false, e: { code: ErrorCode.BadMessage, message: `unknown control request ${String(body?.type)}` } }));
        return;
      }
      fn(body).then(
        (v) => {
          try {
            this.bus.respond(m, encodeReply({ ok: true, v }));
          } catch (err) {
            this.log.debug({ err }, 'control reply not sent (closing)');
          }
        },
        (err) => {
          this.log.warn({ err, request: body.type }, 'control request failed');
          const e = err instanceof GatehouseError ? err.toWire() : { code: 'CONTROL_FAILED', message: errorMessage(err) };
          try {
            this.bus.respond(m, encodeReply({ ok: false, e }));
          } catch {
            /* closing */
          }
        },
      );
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}

export async function callNode<T = unknown>(bus: Bus, node: string, body: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const res = await bus.request(subjects.sys(CONTROL_TOPIC, node), encode(body), { timeoutMs });
  const r = decodeReply(res.data);
  if (r.ok) return r.v as T;
  throw fromWire(r.e);
}
