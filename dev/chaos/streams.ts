/**
 * JetStream leadership around a nats-server kill, measured in the same run as the pauses it causes: which of the
 * deployment's KV streams the server led just before the kill, and how long each took to have a leader again (the
 * election). The chaos report sets each actor's pause against these: an actor whose snapshot stream the dead server
 * did not lead should not pause, and one whose stream it led should pause no longer than that stream's election.
 *
 * Reads STREAM.INFO over its own connection to the surviving servers; a request during the election may time out or
 * answer without a leader, which is what "no leader yet" looks like from a client, so each stream is polled until it
 * names a live leader.
 */
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { bucketName } from '../../bus/subjects.js';

export interface Leadership {
  /** stream → leader's server name ('' while it has none) */
  leaders: Map<string, string>;
}

export interface Election {
  /** Stream name (`KV_<prefix>_<bucket>`). */
  stream: string;
  /** Milliseconds from the kill until a stream info answer named another leader; null if none within the bound. */
  ms: number | null;
  newLeader: string;
}

export interface StreamWatch {
  /** Leaders of every KV stream of the prefix now. */
  leadership(): Promise<Leadership>;
  /**
   * Polls `streams` until each names a live leader, timing from `killedAt` (ms, Date.now clock): another server, or the
   * dead one once `back()` says it runs again (it may win the election it rejoined). Before that, an answer naming
   * the dead server is a stale one.
   */
  elections(streams: readonly string[], dead: string, killedAt: number, boundMs: number, back: () => boolean): Promise<Election[]>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openStreamWatch(servers: string[], prefix: string): Promise<StreamWatch> {
  const nc: NatsConnection = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1, name: 'chaos-stream-watch' });
  const head = `KV_${bucketName(prefix, '')}`;
  const jsm: JetStreamManager = await nc.jetstreamManager({ timeout: 1000, checkAPI: false });
  const leaderOf = async (stream: string): Promise<string> => {
    try {
      return (await jsm.streams.info(stream)).cluster?.leader ?? '';
    } catch {
      return '';
    }
  };
  return {
    async leadership() {
      // A chaos measurement must not end the run: the stream list is retried (the JetStream API may itself be electing
      // after an earlier fault), and an empty map (nothing known led) is the answer when it cannot be read.
      let names: string[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          names = [];
          for await (const n of jsm.streams.names()) if (n.startsWith(head)) names.push(n);
          break;
        } catch {
          names = [];
          await sleep(500);
        }
      }
      names.sort();
      const leaders = new Map<string, string>();
      for (const n of names) leaders.set(n, await leaderOf(n));
      return { leaders };
    },
    async elections(streams, dead, killedAt, boundMs, back) {
      return Promise.all(
        streams.map(async (stream) => {
          while (Date.now() - killedAt < boundMs) {
            const l = await leaderOf(stream);
            if (l && (l !== dead || back())) return { stream, ms: Date.now() - killedAt, newLeader: l };
            await sleep(100);
          }
          return { stream, ms: null, newLeader: '' };
        }),
      );
    },
    async close() {
      await nc.close();
    },
  };
}
