/**
 * Measuring primitives: a bounded latency histogram, CPU clocks, window statistics, and the interleaved window loop
 * that gives every variant (ours and its baseline) the same share of a noisy machine.
 */
import { readFileSync } from 'node:fs';

/** Values below this are stored exactly (one bucket per unit); above it, 64 buckets per power of two. */
const LINEAR = 128;
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Up to 2^44 ns (~4.9 h): far past any request timeout we would record. */
const MAX_EXP = 44;
const BUCKETS = LINEAR + (MAX_EXP - 7 + 1) * SUB;

/** Serialised histogram: what a child sends over IPC. Sparse, so a few hundred numbers at most. */
export interface HistogramData {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: [index: number, count: number][];
}

/**
 * Log-linear latency histogram in the spirit of HdrHistogram: fixed memory (20 KB) whatever the sample count, and
 * ≤ 1.6 % relative error per value (64 sub-buckets per octave of nanoseconds). A reservoir would also bound memory
 * but drops exactly the rare slow samples that make p99, so a histogram is the better fit for tail latency.
 * Values are recorded and reported in microseconds; stored internally as integer nanoseconds.
 */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(us: number): void {
    const ns = us > 0 ? Math.floor(us * 1000) : 0;
    this.counts[bucketOf(ns)]!++;
    this.count++;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** p in [0, 100]; the midpoint of the bucket holding that rank, clamped to the observed min and max. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, midpointOf(i) / 1000));
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  merge(other: Histogram | HistogramData): this {
    const o = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, c] of o.buckets) this.counts[i]! += c;
    this.count += o.count;
    this.sum += o.sum;
    if (o.count > 0) {
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
    return this;
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max, buckets };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}

function bucketOf(ns: number): number {
  if (ns < LINEAR) return ns;
  const e = ns < 2 ** 31 ? 31 - Math.clz32(ns) : Math.floor(Math.log2(ns));
  if (e > MAX_EXP) return BUCKETS - 1;
  const sub = Math.floor(ns / 2 ** (e - SUB_BITS)) - SUB;
  return LINEAR + (e - 7) * SUB + sub;
}

function midpointOf(i: number): number {
  if (i < LINEAR) return i + 0.5;
  const e = Math.floor((i - LINEAR) / SUB) + 7;
  const sub = (i - LINEAR) % SUB;
  const width = 2 ** (e - SUB_BITS);
  return (SUB + sub) * width + width / 2;
}

/** CPU seconds (user + system, all threads) this process has used so far. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux; /proc/<pid>/stat counts in these ticks.

/**
 * CPU seconds of any local process (e.g. nats-server, which cannot report over IPC), from /proc. Linux only;
 * resolution 10 ms, so use it over windows of a second or more. Returns NaN where /proc is missing.
 */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing ')' are fixed.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function stats(runs: readonly number[]): Stats {
  const s = runs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, runs: [...runs] };
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: [...runs] };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WindowPlan {
  /** Warm-up windows per variant, discarded (JIT, connection buffers, server interest graph). Default 1. */
  warmups?: number;
  /** Measured windows per variant; at least 3, so a median means something. Default 5. */
  windows?: number;
}

/** One measured window of one variant: `warmup` is true for the discarded ones. */
export type WindowFn<R> = (ctx: { variant: string; round: number; warmup: boolean }) => Promise<R>;

/**
 * Runs warm-ups, then rounds of one window per variant, rotating the order each round (A B C, B C A, …). Load on a
 * shared 2-core host drifts over seconds; interleaving windows spreads that drift evenly over ours and the baseline,
 * where back-to-back blocks would hand all of it to one side. Returns each variant's measured results in order.
 */
export async function runInterleaved<R>(
  plan: WindowPlan,
  variants: Record<string, WindowFn<R>>,
): Promise<Record<string, R[]>> {
  const warmups = plan.warmups ?? 1;
  const windows = Math.max(3, plan.windows ?? 5);
  const names = Object.keys(variants);
  const out: Record<string, R[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let w = 0; w < warmups; w++) {
    for (const n of names) await variants[n]!({ variant: n, round: -1, warmup: true });
  }
  for (let round = 0; round < windows; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length]!;
      out[n]!.push(await variants[n]!({ variant: n, round, warmup: false }));
    }
  }
  return out;
}

/**
 * Kills the whole benchmark if it runs past `ms` (exit handlers then stop every child and nats-server). A benchmark
 * must stop by itself; a hung peer must not hold the machine.
 */
export function hardDeadline(ms: number, what = 'benchmark'): () => void {
  const t = setTimeout(() => {
    process.stderr.write(`\n${what}: exceeded its ${Math.round(ms / 1000)} s budget; stopping everything.\n`);
    process.exit(2);
  }, ms);
  t.unref();
  return () => clearTimeout(t);
}

/** Window plan with BENCH_WINDOWS / BENCH_WINDOW_MS overrides, e.g. for a quick look while developing. */
export function planFromEnv(defaults: { windows: number; windowMs: number; warmups?: number }) {
  const windows = Math.max(3, Number(process.env.BENCH_WINDOWS) || defaults.windows);
  const windowMs = Number(process.env.BENCH_WINDOW_MS) || defaults.windowMs;
  return { windows, windowMs, warmups: defaults.warmups ?? 1 };
}
