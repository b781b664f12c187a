/**
 * Counts every message on a nats-server by subject pattern: what the lobby's per-bot traffic is made of (issue 16).
 * Ids collapse to `*`; an actor inbox message is also split by its message type (the envelope's `m.type`), so
 * `lobby-city.*.* relay` and `lobby-player.*.* whoami` count apart; the lifecycle feed's batches are opened too
 * (rows starting with spaces: events, not messages, left out of the total). JetStream shows as `$JS.API.…`, `$JS.ACK.…`
 * and `$KV.<bucket>.*`; request replies as `_INBOX.*` (nats.js' own) or `<prefix>._INBOX.*` (the request mux).
 *
 * In the bench (BENCH_COUNT_SUBJECTS=1) the counter subscribes to `>` around the relay windows only; its own
 * subscription makes nats-server deliver every message once more, so the nats-server CPU figure of such a run is
 * not comparable with one without it.
 *
 * Alone:  node dist/bench/lobby/subject-count.js nats://127.0.0.1:PORT [seconds=20]
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import { decode } from '../../bus/codec.js';
import { decodeLifecycle } from '../../server/lifecycle-events.js';

interface Row {
  msgs: number;
  bytes: number;
}

/** A subject's pattern: numbers and ids become `*`; actor inboxes keep kind and message type. */
export function patternOf(subject: string, data: Uint8Array, prefix: string): string {
  const t = subject.split('.');
  // $KV.<prefix>_<bucket>.<kind>.<id>: snapshot writes counted per actor kind, the buckets taken together.
  if (t[0] === '$KV') return t.length > 3 ? `$KV.${t[1]!.replace(/\d+$/, '*')}.${t[2]}.*` : `$KV.${t[1]}.*`;
  if (t[0] === '$JS') {
    // $JS.API.STREAM.MSG.GET.<stream>, $JS.API.CONSUMER.… , $JS.ACK.<stream>.<consumer>.…
    if (t[1] === 'ACK') return `$JS.ACK.${t[2]}.*`;
    return t.slice(0, 5).map((x, i) => (i >= 3 && /\d/.test(x) ? '*' : x)).join('.') + (t.length > 5 ? '.*' : '');
  }
  if (t[0] === '_INBOX') return '_INBOX.*';
  if (t[0] === prefix) {
    const kind = t[1] ?? '';
    if (kind === '_INBOX' || kind === '_INBOX_tools') return `${prefix}.${kind}.*`;
    if (kind === 'sys' || kind === 'trace' || kind === 'gw') return [prefix, ...t.slice(1, 3), ...(t.length > 3 ? ['*'] : [])].join('.');
    if (t.length === 4) {
      const shard = t[2]!.startsWith('@') ? '@*' : '*';
      return `${prefix}.${kind}.${shard}.* ${typeOf(data)}`;
    }
  }
  return t.map((x) => (/\d/.test(x) ? '*' : x)).join('.');
}

/** The message type of an actor envelope ({m, s, q}), or `?` when it is not one. */
function typeOf(data: Uint8Array): string {
  if (data.length === 0) return '(empty)';
  try {
    const env = decode(data) as { m?: { type?: unknown } } | undefined;
    const ty = env?.m?.type;
    return typeof ty === 'string' ? ty : '?';
  } catch {
    return '?';
  }
}

export class SubjectCounter {
  private rows = new Map<string, Row>();
  private sub: Subscription | undefined;
  private t0 = 0;
  private secs = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.t0 = performance.now();
    this.sub = this.nc.subscribe('>', {
      callback: (_err, m) => {
        const p = patternOf(m.subject, m.data, this.prefix);
        // The lifecycle feed's batches, opened: actor starts and stops by kind (activation, hibernation churn).
        if (p === `${this.prefix}.sys.lifecycle`) {
          try {
            for (const ev of decodeLifecycle(m.data)) this.add(`  lifecycle ${ev.e} ${ev.k}`, 0);
          } catch {
            this.add('  lifecycle (undecodable)', 0);
          }
        }
        this.add(p, m.data.length);
      },
    });
  }

  private add(p: string, bytes: number): void {
    const r = this.rows.get(p);
    if (r) {
      r.msgs++;
      r.bytes += bytes;
    } else this.rows.set(p, { msgs: 1, bytes });
  }

  /** Stops counting (a later start adds to the same counts). */
  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.secs += (performance.now() - this.t0) / 1000;
  }

  /** Rows by messages per second, most first; `per` divides the rates (e.g. bots, to read them per bot). */
  report(per = 1, top = 60): string {
    const rows = [...this.rows].sort((a, b) => b[1].msgs - a[1].msgs);
    const total = rows.reduce((s, [p, r]) => s + (p.startsWith('  ') ? 0 : r.msgs), 0);
    const lines = [`${(total / this.secs).toFixed(0)} msgs/s over ${this.secs.toFixed(1)} s${per !== 1 ? `, ${(total / this.secs / per).toFixed(3)} per bot per s` : ''}`];
    lines.push(`${'msgs/s'.padStart(9)} ${'per bot'.padStart(8)} ${'B/msg'.padStart(6)}  pattern`);
    for (const [p, r] of rows.slice(0, top)) {
      lines.push(`${(r.msgs / this.secs).toFixed(1).padStart(9)} ${(r.msgs / this.secs / per).toFixed(4).padStart(8)} ${(r.bytes / r.msgs).toFixed(0).padStart(6)}  ${p}`);
    }
    return lines.join('\n');
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const url = process.argv[2];
  if (!url) throw new Error('usage: subject-count.js nats://host:port [seconds] [prefix]');
  const secs = Number(process.argv[3] ?? 20);
  const nc = await connect({ servers: [url] });
  const c = new SubjectCounter(nc, process.argv[4] ?? 'lobbybench');
  c.start();
  await new Promise((r) => setTimeout(r, secs * 1000));
  c.stop();
  process.stdout.write(c.report() + '\n');
  await nc.close();
}
