/**
 * What a node does when Liveness says it hears itself but no other node (its NATS server may be cut off from the
 * others): make sure, then move every connection to the next server. Moving is right for a cut-off server (done
 * within the fence, the others hear us again before they declare us dead) and wrong otherwise: it drops every request
 * in flight on every connection.
 *
 * Two other situations look the same from inside for a moment:
 * - Others merely slow (a starved host: every process late at once). A ping to any of them answers: stay.
 * - The others' server died (kill -9 of a nats-server): they reconnect elsewhere and re-subscribe, and until then a
 *   ping to them finds no responder, at once — exactly what a cut-off server answers too. What tells the two apart is
 *   time: reconnecting nodes answer again within a moment, a cut-off server never does. So a round where every ping
 *   failed fast (NO_RESPONDERS) is tried once more a heartbeat after the first; only a second failure moves. In a
 *   chaos run at load 20 the first-round move fired on the nodes of the surviving servers after every nats-server
 *   kill, dropping their requests and making their actors pause although their streams had leaders.
 *
 * The cost, for a really cut-off server: the move comes one heartbeat later (isolation is signalled at half the fence
 * time, so the move still starts before the fence, and the fence keeps "one live instance" either way).
 */
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';

export interface IsolationDeps {
  clock: Clock;
  log: Logger;
  /** Ids of the other nodes believed alive. */
  others(): string[];
  /** Pings one node; rejects with an error whose `code` is NO_RESPONDERS when nobody listens, TIMEOUT when late. */
  ping(node: string, timeoutMs: number): Promise<unknown>;
  moveAll(): void;
  heartbeatMs: number;
  /** No second move sooner than this after one (a node's own move silences it for a moment). */
  cooldownMs: number;
}

type Round = 'answered' | 'no-responders' | 'failed';

export class IsolationCheck {
  private movedAt = -Infinity;
  private checking = false;

  constructor(private readonly d: IsolationDeps) {}

  /** Liveness's onIsolated. Resolves when the check ended (moved or not); never rejects. */
  async suspect(): Promise<void> {
    const d = this.d;
    if (this.checking || d.clock.now() - this.movedAt < d.cooldownMs) return;
    const others = d.others();
    if (others.length === 0) return;
    this.checking = true;
    try {
      const started = d.clock.now();
      let r = await this.round(others);
      if (r === 'no-responders') {
        const wait = Math.max(0, started + d.heartbeatMs - d.clock.now());
        await new Promise<void>((res) => d.clock.setTimeout(res, wait));
        r = await this.round(d.others().length ? d.others() : others);
        if (r === 'answered') {
          d.log.warn({ others: others.length }, 'other nodes had no responders, then answered a ping (their NATS server went away?): not isolated, not moving');
          return;
        }
      } else if (r === 'answered') {
        d.log.warn({ others: others.length }, 'other nodes silent, yet one answered a ping: not isolated, not moving');
        return;
      }
      this.movedAt = d.clock.now();
      d.log.warn({ others: others.length, pings: r }, 'no other node answers a ping: moving every NATS connection to the next server');
      d.moveAll();
    } finally {
      this.checking = false;
    }
  }

  private async round(others: string[]): Promise<Round> {
    const results = await Promise.allSettled(others.map((n) => this.d.ping(n, this.d.heartbeatMs)));
    if (results.some((x) => x.status === 'fulfilled')) return 'answered';
    const allNoResponders = results.every((x) => x.status === 'rejected' && (x.reason as { code?: unknown })?.code === 'NO_RESPONDERS');
    return allNoResponders ? 'no-responders' : 'failed';
  }
}
