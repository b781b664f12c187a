/**
 * Metrics, the printed table and bench/results/<name>.json, in the one format every benchmark writes:
 * { benchmark, date, env: { node, nats_server, cpu, cores }, metrics: [ { name, value, unit, baseline_name, baseline,
 *   ratio, higher_is_better, target_ratio | target, runs } ] }.
 * `value` and `baseline` are medians over the measured windows; `ratio` = value / baseline from the same run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stats } from './measure.js';
import { resultsDir } from './paths.js';

export interface BenchEnv {
  node: string;
  nats_server: string;
  cpu: string;
  cores: number;
}

export interface Metric {
  name: string;
  value: number;
  unit: string;
  baseline_name: string | null;
  baseline: number | null;
  ratio: number | null;
  higher_is_better: boolean;
  /** Bound on `ratio`: a minimum when higher is better, else a maximum. */
  target_ratio?: number | null;
  /** Absolute bound on `value`, for metrics without a baseline. */
  target?: number | null;
  runs: number[];
}

export interface MetricSpec {
  name: string;
  unit: string;
  /** One value per measured window. */
  runs: readonly number[];
  higherIsBetter: boolean;
  /** The same quantity for the baseline, measured in the same run. */
  baseline?: { name: string; runs: readonly number[] };
  targetRatio?: number;
  target?: number;
}

/** Whole numbers for large values, four significant digits for small ones: the run-to-run noise is far wider. */
function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const d = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x))));
  return Number(x.toFixed(Math.min(d, 6)));
}

export function metric(s: MetricSpec): Metric {
  const v = stats(s.runs).median;
  const b = s.baseline ? stats(s.baseline.runs).median : null;
  const m: Metric = {
    name: s.name,
    value: round(v),
    unit: s.unit,
    baseline_name: s.baseline?.name ?? null,
    baseline: b === null ? null : round(b),
    ratio: b === null || b === 0 ? null : Number((v / b).toFixed(3)),
    higher_is_better: s.higherIsBetter,
    runs: s.runs.map(round),
  };
  // Key order matters to readers diffing result files: the target sits before runs, in every result file.
  const { runs, ...head } = m;
  if (s.targetRatio !== undefined || (s.baseline && s.target === undefined)) {
    return { ...head, target_ratio: s.targetRatio ?? null, runs };
  }
  return { ...head, target: s.target ?? null, runs };
}

export type Verdict = 'pass' | 'miss' | '';

export function verdict(m: Metric): Verdict {
  const meets = (x: number, bound: number) => (m.higher_is_better ? x >= bound : x <= bound);
  if (m.target_ratio != null && m.ratio != null) return meets(m.ratio, m.target_ratio) ? 'pass' : 'miss';
  if (m.target != null) return meets(m.value, m.target) ? 'pass' : 'miss';
  return '';
}

/** 1.23 M, 45.6 k, 38.2: what a person reads; the JSON keeps the numbers. */
export function human(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

export function printTable(title: string, metrics: readonly Metric[], out: NodeJS.WritableStream = process.stdout) {
  const rows = metrics.map((m) => {
    const s = stats(m.runs);
    const cmp = m.higher_is_better ? '≥' : '≤';
    const bound =
      m.target_ratio != null ? `${cmp} ${m.target_ratio}×` : m.target != null ? `${cmp} ${human(m.target)}` : '';
    return [
      m.name,
      `${human(m.value)} ${m.unit}`,
      `${human(s.min)}–${human(s.max)}`,
      m.baseline === null ? '—' : `${human(m.baseline)} (${m.baseline_name})`,
      m.ratio === null ? '—' : `${m.ratio.toFixed(2)}×`,
      bound,
      verdict(m),
    ];
  });
  const head = ['metric', 'value (median)', 'min–max', 'baseline (median)', 'ratio', 'target', 'pass/miss'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  out.write(`\n${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) out.write(line(r) + '\n');
}

export function benchEnv(): BenchEnv {
  let nats = process.env.NATS_SERVER_VERSION ?? '';
  if (!nats) {
    try {
      nats = execFileSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version']).toString();
    } catch {
      nats = 'unknown';
    }
  }
  const c = cpus();
  return {
    node: process.versions.node,
    nats_server: nats.trim().replace(/^nats-server:\s*v?/, ''),
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
  };
}

/** bench/results/<name>.json, its folder made if needed. */
function resultPath(name: string): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.json`);
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResult(name: string, metrics: readonly Metric[], env: BenchEnv = benchEnv()): string {
  const path = resultPath(name);
  const doc = { benchmark: name, date: new Date().toISOString(), env, metrics };
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
  return path;
}

/**
 * Appends one run to bench/results/<name>.json (`{ benchmark, runs: [...] }`, the newest `keep` runs) and returns its
 * path: for benches whose runs differ by seed (chaos), where one run is a sample and the note cites several. A file in
 * writeResult's one-run form becomes the first run; an unreadable one is replaced (its runs cannot be kept).
 */
export function appendResult(name: string, metrics: readonly Metric[], extra: Record<string, unknown> = {}, keep = 12, env: BenchEnv = benchEnv()): string {
  const path = resultPath(name);
  let runs: unknown[] = [];
  if (existsSync(path)) {
    try {
      const old = JSON.parse(readFileSync(path, 'utf8')) as { runs?: unknown[]; metrics?: unknown; date?: string; env?: unknown };
      if (Array.isArray(old.runs)) runs = old.runs;
      else if (old.metrics) runs = [{ date: old.date, env: old.env, metrics: old.metrics }];
    } catch {
      runs = [];
    }
  }
  runs.push({ date: new Date().toISOString(), env, ...extra, metrics });
  writeFileSync(path, JSON.stringify({ benchmark: name, runs: runs.slice(-keep) }, null, 2) + '\n');
  return path;
}
