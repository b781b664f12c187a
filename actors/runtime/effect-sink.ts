/**
 * Where a node's actor effects leave it: replies to askers, pushes fanned out to gateways (one bus message per
 * gateway holding any of the connections), and messages forwarded to wherever an actor lives now. Cells call it
 * directly (CellContext.effects) after their turn commits.
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ErrorCode } from '../../common/errors.js';
import type { ActorClient } from './client.js';
import type { ConnRef } from './effects.js';
import { encodeEnvelope, encodeReply, type Envelope, type Reply } from './envelope.js';

/** The message a gateway receives on `gw.<node>.push`: one per gateway per push effect. */
export interface GatewayPush {
  c: string[];
  r: string;
  b: unknown;
}

export class EffectSink {
  constructor(
    private readonly bus: Bus,
    private readonly client: ActorClient,
    private readonly log: Logger,
  ) {}

  respond(msg: BusMsg, reply: Reply): void {
    try {
      this.bus.respond(msg, encodeReply(reply));
    } catch (err) {
      this.log.warn({ err, subject: msg.subject }, 'could not send reply');
    }
  }

  push(to: ConnRef[], route: string, body: unknown): void {
    const byGateway = new Map<string, string[]>();
    for (const c of to) {
      const list = byGateway.get(c.gw);
      if (list) list.push(c.id);
      else byGateway.set(c.gw, [c.id]);
    }
    for (const [gw, ids] of byGateway) {
      this.bus.publish(subjects.gateway(gw, 'push'), encode({ c: ids, r: route, b: body } satisfies GatewayPush));
    }
  }

  /** Sends a message on to the actor's subject, keeping sender, sequence and reply address. */
  forward(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    try {
      const subject = this.client.subjectOf({ kind, id });
      // Re-encoded from the envelope (sender and sequence kept): a handed-over message no longer has its bytes.
      this.bus.publish(subject, encodeEnvelope(env), msg.reply ? { reply: msg.reply } : undefined);
    } catch (err) {
      this.log.warn({ err, actor: `${kind}/${id}` }, 'could not forward message');
      if (msg.reply) this.respond(msg, { ok: false, e: { code: ErrorCode.NotOwner, message: 'actor moved; retry' } });
    }
  }
}
