/**
 * Store over JetStream KV. Buckets are named `<prefix>_<name>` so deployments sharing a NATS never share state.
 *
 * Reads go to the stream leader (`allow_direct: false`): a replicated "direct get" may be answered by a lagging
 * replica (0.5–2 % of reads right after an acknowledged write, measured on nats-server 2.9), which would break leases
 * and snapshot fencing.
 *
 * Listing keys does not use nats.js `kv.keys()`: its ordered consumer ends only when a delivered message reports zero
 * pending, and on nats-server 2.9 with keys being rewritten or expiring meanwhile that can never happen (it hung a
 * cluster's balancer for good; nats-server#3481 describes the same). The stream's own subject list (STREAM.INFO with
 * a subjects filter, one request, paged by nats.js) cannot wait on anything; a get per key then drops tombstones.
 */
import { KvWatchInclude, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { forEachBounded } from '../../common/bounded.js';
import { silentLogger } from '../../common/logger.js';
import {
  type BucketOptions,
  type KvBucket,
  type KvChange,
  type KvEntry,
  type KvWatcher,
  type Store,
  type WatchOptions,
  assertBucketName,
  assertKey,
} from '../store.js';
import { bucketName } from '../subjects.js';
import { ConflictError, NoRespondersError, TimeoutError } from '../../common/errors.js';
import { translateNatsError } from './nats-errors.js';

export interface NatsStoreOptions {
  connection: NatsConnection;
  prefix: string;
  /** Stream replicas per bucket: 1 on a single server, 3 on a 3-server cluster. */
  replicas?: number;
  log?: Logger;
  /** How long a KV API call may take before it fails (writes fail fast while a stream elects a leader). */
  timeoutMs?: number;
  /** How long to keep retrying when JetStream is not ready yet at bucket creation. */
  openRetryMs?: number;
}

export function createNatsStore(o: NatsStoreOptions): Store {
  return new NatsStore(o);
}

class NatsStore implements Store {
  readonly kind = 'nats' as const;
  private readonly js: JetStreamClient;
  private jsm?: Promise<JetStreamManager>;
  private readonly buckets = new Map<string, Promise<KvBucket>>();
  private readonly watchers = new Set<KvWatcher>();

  constructor(private readonly o: NatsStoreOptions) {
    this.js = o.connection.jetstream({ timeout: o.timeoutMs ?? 5000 });
  }

  async bucket(name: string, opts?: BucketOptions): Promise<KvBucket> {
    assertBucketName(name);
    const full = bucketName(this.o.prefix, name);
    let b = this.buckets.get(full);
    if (!b) {
      b = this.open(name, full, opts).catch((err) => {
        this.buckets.delete(full);
        throw translateNatsError(err, `opening bucket ${full}`);
      });
      this.buckets.set(full, b);
    }
    return b;
  }

  /**
   * Creating a bucket right after a cluster starts can fail while JetStream elects its meta leader (fresh: < 1 s,
   * restart with data: 5–30 s on 2.9), so a node keeps trying for a while instead of failing its start.
   */
  private async open(name: string, full: string, opts?: BucketOptions): Promise<KvBucket> {
    const log = this.o.log ?? silentLogger;
    const deadline = Date.now() + (this.o.openRetryMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        const kv = await this.js.views.kv(full, {
          history: 1,
          ttl: opts?.ttlMs ?? 0,
          replicas: this.o.replicas ?? 1,
          allow_direct: false,
        });
        this.jsm ??= this.o.connection.jetstreamManager({ timeout: this.o.timeoutMs ?? 5000, checkAPI: false });
        return new NatsBucket(name, full, kv, await this.jsm, log, this.watchers, this.js, this.o.timeoutMs ?? 5000);
      } catch (err) {
        const e = translateNatsError(err, `opening bucket ${full}`);
        const transient = e.code === 'TIMEOUT' || e.code === 'NO_RESPONDERS' || /temporarily unavailable|no suitable peers|503/i.test(e.message);
        if (!transient || Date.now() > deadline) throw e;
        if (attempt === 1 || attempt % 10 === 0) log.warn({ bucket: full, err: e.message }, 'JetStream not ready; retrying');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.stop();
    this.watchers.clear();
  }
}

/** One compare-and-set attempt waits at most this long (NatsBucket.update); the store timeout bounds them all. */
const UPDATE_ATTEMPT_MS = 400;
/** Pause before retrying an attempt answered "no responders" (503) at once, after an earlier one timed out. */
const UPDATE_RETRY_PAUSE_MS = 100;

/** Gets in flight at once while listing a bucket's entries. */
const ENTRIES_IN_FLIGHT = 32;

class NatsBucket implements KvBucket {
  private readonly stream: string;
  private readonly subjectPrefix: string;

  constructor(
    readonly name: string,
    full: string,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
    private readonly watchers: Set<KvWatcher>,
    private readonly js: JetStreamClient,
    private readonly timeoutMs: number,
  ) {
    this.stream = `KV_${full}`;
    this.subjectPrefix = `$KV.${full}.`;
  }

  private async call<T>(what: string, key: string, fn: () => Promise<T>): Promise<T> {
    assertKey(key);
    try {
      return await fn();
    } catch (err) {
      throw translateNatsError(err, `${what} ${this.name}/${key}`);
    }
  }

  get(key: string): Promise<KvEntry | null> {
    return this.call('get', key, async () => {
      const e = await this.kv.get(key);
      if (!e || e.operation !== 'PUT') return null;
      return { key, value: e.value, revision: e.revision };
    });
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.call('put', key, () => this.kv.put(key, value));
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.call('create', key, () => this.kv.create(key, value));
  }

  /**
   * Compare-and-set, sent in attempts of at most UPDATE_ATTEMPT_MS within the store timeout while attempts time out.
   * A stream electing a leader does not answer a publish at all, so one attempt sent just before its new leader is in
   * waited out the whole timeout (2 s by default) although the stream took writes again: in a chaos run the actors of a killed nats-server's
   * streams stayed unavailable up to 1.9 s past their stream's election. Sending again with the same expected revision
   * is safe: if an earlier attempt landed (its answer lost), this one is refused as a conflict, and the record then
   * holds exactly these bytes at a newer revision: that was our write, and its revision is the answer. Any other
   * conflict is a conflict (the cell then re-reads for its own mark, cell-answers.ts).
   */
  async update(key: string, value: Uint8Array, expected: number): Promise<number> {
    assertKey(key);
    const what = `update ${this.name}/${key}`;
    const deadline = Date.now() + this.timeoutMs;
    let mayHaveLanded = false;
    let lastTimeout: TimeoutError | undefined;
    for (;;) {
      const left = deadline - Date.now();
      try {
        const ack = await this.js.publish(this.subjectPrefix + key, value, {
          expect: { lastSubjectSequence: expected },
          timeout: Math.max(1, Math.min(left, UPDATE_ATTEMPT_MS)),
        });
        return ack.seq;
      } catch (err) {
        const e = translateNatsError(err, what);
        if (e instanceof ConflictError && mayHaveLanded) {
          const now = await this.get(key).catch(() => null);
          if (now && now.revision > expected && Buffer.compare(now.value, value) === 0) return now.revision;
          throw e;
        }
        const timedOut = e instanceof TimeoutError;
        if (timedOut) lastTimeout = e;
        mayHaveLanded ||= timedOut;
        // A 503 (no leader to take it) before any attempt timed out is a definite "not written": answered at once, as
        // before, so callers get STORE_ERROR (not applied) fast instead of a slow TIMEOUT (maybe applied). After an
        // attempt that may have landed, it is retried (after a pause: a 503 comes back at once) to settle that one.
        const retry = timedOut || (e instanceof NoRespondersError && mayHaveLanded);
        const pause = timedOut ? 0 : UPDATE_RETRY_PAUSE_MS;
        if (!retry || deadline - Date.now() < pause + 20) {
          // Giving up after an attempt that may have landed is a timeout ("may have been applied"), whatever the last
          // attempt answered: a 503 after it does not mean the earlier one was not written.
          throw lastTimeout ?? e;
        }
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  delete(key: string, expected?: number): Promise<void> {
    return this.call('delete', key, () =>
      expected === undefined ? this.kv.delete(key) : this.kv.delete(key, { previousSeq: expected }),
    );
  }

  async keys(pattern = '>'): Promise<string[]> {
    return (await this.entries(pattern)).map((e) => e.key);
  }

  async lastRevision(): Promise<number> {
    try {
      return (await this.jsm.streams.info(this.stream)).state.last_seq;
    } catch (err) {
      throw translateNatsError(err, `last revision of ${this.name}`);
    }
  }

  async entries(pattern = '>'): Promise<KvEntry[]> {
    let subjects: string[];
    try {
      const si = await this.jsm.streams.info(this.stream, { subjects_filter: this.subjectPrefix + pattern });
      subjects = Object.keys(si.state.subjects ?? {});
    } catch (err) {
      throw translateNatsError(err, `keys ${this.name}/${pattern}`);
    }
    // A bounded number of gets in flight: a thousand at once (every lease) would hold this node's event loop for a
    // burst long enough to show in request latency tails.
    const out: KvEntry[] = [];
    await forEachBounded(subjects, ENTRIES_IN_FLIGHT, async (subject) => {
      const e = await this.get(subject.slice(this.subjectPrefix.length));
      if (e) out.push(e);
    });
    return out;
  }

  async watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher> {
    let initializing = opts?.initial === true;
    let it;
    try {
      it = await this.kv.watch({
        key: opts?.key ?? '>',
        include: opts?.initial ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
        initializedFn: () => {
          initializing = false;
        },
      });
    } catch (err) {
      throw translateNatsError(err, `watch ${this.name}/${opts?.key ?? '>'}`);
    }
    const watcher: KvWatcher = { stop: () => it.stop() };
    this.watchers.add(watcher);
    void (async () => {
      try {
        for await (const e of it) {
          const del = e.operation !== 'PUT';
          if (del && initializing) continue; // a tombstone is not a current value
          try {
            onChange({ key: e.key, op: del ? 'delete' : 'put', value: e.value, revision: e.revision });
          } catch (err) {
            this.log.error({ err, bucket: this.name, key: e.key }, 'watch callback threw');
          }
        }
      } catch (err) {
        this.log.warn({ err: translateNatsError(err, `watch ${this.name}`) }, 'watch ended with error');
      } finally {
        this.watchers.delete(watcher);
      }
    })();
    return watcher;
  }
}
