/**
 * Node-addressed control: each node answers requests on `sys.ctl.<node>` (move-in, probe, hand-over, drain, status).
 * Replies use the actor reply format ({ok, v} / {ok:false, e:{code,message}}), so errors keep their codes.
 *
 * Read-only requests (`status`, `inspect`) are also answered on `sys.info.<node>`, and only they are: NATS grants
 * permissions by subject, so the `ops` user (`gatehouse nats-config`) may publish there and not on `sys.ctl.*`,
 * which would let it drain or move (docs/SECURITY.md).
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import { ErrorCode, GatehouseError, errorMessage, fromWire } from '../common/errors.js';
import { decodeReply, encodeReply } from '../actors/runtime/envelope.js';
import type { ActorClient } from '../actors/runtime/client.js';

export type ControlHandler = (body: Record<string, unknown>) => Promise<unknown>;

export const CONTROL_TOPIC = 'ctl';
/** Where read-only requests go (see READ_ONLY). */
export const INFO_TOPIC = 'info';
/** Requests that change nothing: answered on `sys.info.<node>` as well. */
export const READ_ONLY: ReadonlySet<string> = new Set(['status', 'inspect']);

export class Control {
  private readonly handlers = new Map<string, ControlHandler>();
  private sub?: Subscription;
  private infoSub?: Subscription;

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  handle(type: string, fn: ControlHandler): void {
    this.handlers.set(type, fn);
  }

  start(): void {
    this.sub = this.bus.subscribe(subjects.sys(CONTROL_TOPIC, this.nodeId), (m) => this.serve(m, false));
    this.infoSub = this.bus.subscribe(subjects.sys(INFO_TOPIC, this.nodeId), (m) => this.serve(m, true));
  }

  private serve(m: BusMsg, readOnly: boolean): void {
    let body: Record<string, unknown>;
    try {
      body = decode<Record<string, unknown>>(m.data);
    } catch (err) {
      this.bus.respond(m, encodeReply({ ok: false, e: { code: ErrorCode.BadMessage, message: errorMessage(err) } }));
      return;
    }
    const allowed = typeof body?.type === 'string' && (!readOnly || READ_ONLY.has(body.type));
    const fn = allowed ? this.handlers.get(body.type as string) : undefined;
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
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.infoSub?.unsubscribe();
  }
}

/** The `inspect` request: the node asks the actor (`$inspect`, redacted: turn-views.ts) with its own client. */
export function inspectActor(client: ActorClient, body: Record<string, unknown>): Promise<unknown> {
  const { kind, id } = body;
  if (typeof kind !== 'string' || typeof id !== 'string' || !kind || !id) {
    return Promise.reject(new GatehouseError(ErrorCode.BadMessage, 'inspect needs a string kind and id'));
  }
  return client.ask({ kind, id }, { type: '$inspect' });
}

export async function callNode<T = unknown>(bus: Bus, node: string, body: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const topic = READ_ONLY.has(String(body.type)) ? INFO_TOPIC : CONTROL_TOPIC;
  const res = await bus.request(subjects.sys(topic, node), encode(body), { timeoutMs });
  const r = decodeReply(res.data);
  if (r.ok) return r.v as T;
  throw fromWire(r.e);
}
