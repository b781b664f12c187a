/**
 * Loads the configuration from defaults < JSON file < environment < CLI flags, then validates it. Every error names
 * the field, where the bad value came from (file, env variable or flag) and what is allowed. Apps' sections
 * (sections.ts) given in `sections` are layered and validated the same way, under their own top-level keys.
 */
import { readFileSync } from 'node:fs';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../common/errors.js';
import { DEFAULTS } from './defaults.js';
import { configSchema, type Config } from './schema.js';
import type { ConfigSection } from './sections.js';

type Plain = Record<string, unknown>;

export interface ConfigSources {
  /** Path of a JSON config file (also GATEHOUSE_CONFIG). */
  file?: string;
  /** Environment (defaults to none: pass process.env explicitly). */
  env?: Record<string, string | undefined>;
  /** Parsed CLI flags, e.g. { prefix: 'mh', nats: 'nats://a:4222,nats://b:4222', set: ['gateway.wsPort=9000'] }. */
  flags?: Record<string, string | string[] | boolean | undefined>;
  /** Programmatic overrides (tests, embedding), applied last. */
  overrides?: DeepPartial<Config>;
  /** Apps' config sections to layer and validate (the wiring's list: server/apps.ts). Without one, its key is unknown. */
  sections?: readonly ConfigSection[];
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

type LeafType = 'string' | 'number' | 'boolean' | 'list';

/** Optional leaves (no default to infer a type from). */
const OPTIONAL_LEAVES: Record<string, LeafType> = {
  'node.id': 'string',
  'node.builtinApps': 'list',
  'nats.user': 'string',
  'nats.pass': 'string',
  'nats.token': 'string',
  'nats.tls.certFile': 'string',
  'nats.tls.keyFile': 'string',
  'nats.tls.caFile': 'string',
  'gateway.publicHost': 'string',
  'gateway.tls.certFile': 'string',
  'gateway.tls.keyFile': 'string',
};

function leafTypes(defaults: Plain): Map<string, LeafType> {
  const out = new Map<string, LeafType>();
  const walk = (o: Plain, path: string) => {
    for (const [k, v] of Object.entries(o)) {
      const p = path ? `${path}.${k}` : k;
      if (Array.isArray(v)) out.set(p, 'list');
      else if (v && typeof v === 'object') walk(v as Plain, p);
      else out.set(p, typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string');
    }
  };
  walk(defaults, '');
  for (const [p, t] of Object.entries(OPTIONAL_LEAVES)) out.set(p, t);
  return out;
}

/** Turns a string from env or a flag into the type the field expects (bad input is left for validation to name). */
function coerce(leaves: Map<string, LeafType>, path: string, raw: string): unknown {
  switch (leaves.get(path)) {
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
    }
    case 'boolean':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    default:
      return raw;
  }
}

function setPath(target: Plain, path: string, value: unknown, sources: Map<string, string>, source: string): void {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== 'object' || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Plain;
  }
  o[parts[parts.length - 1]!] = value;
  sources.set(path, source);
}

function mergeLayer(target: Plain, layer: Plain, sources: Map<string, string>, source: string, path = ''): void {
  for (const [k, v] of Object.entries(layer)) {
    const p = path ? `${path}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' && !Array.isArray(target[k])) {
      mergeLayer(target[k] as Plain, v as Plain, sources, source, p);
    } else {
      target[k] = v;
      sources.set(p, source);
    }
  }
}

function readFileLayer(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, ['<file>'], { cause: err });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('top level must be a JSON object');
    return v as Plain;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, ['<file>'], { cause: err });
  }
}

const FLAG_PATHS: Record<string, string> = {
  prefix: 'prefix',
  nats: 'nats.servers',
  roles: 'node.roles',
  threads: 'node.threads',
  capacity: 'node.capacity',
  'node-id': 'node.id',
  'log-level': 'log.level',
  replicas: 'nats.replicas',
  app: 'node.apps',
  'gateway-procs': 'gateway.procs',
};

/** The defaults and the schema of the core plus the given app sections. */
function withSections(sections: readonly ConfigSection[]) {
  const defaults = structuredClone(DEFAULTS) as unknown as Plain;
  for (const s of sections) {
    if (s.key in defaults) throw new Error(`config section ${JSON.stringify(s.key)} is declared twice or collides with a core section`);
    defaults[s.key] = structuredClone(s.defaults);
  }
  const schema = sections.length ? configSchema.extend(Object.fromEntries(sections.map((s) => [s.key, s.schema]))) : configSchema;
  return { defaults, schema };
}

export function loadConfig(src: ConfigSources = {}): Config {
  const { defaults, schema } = withSections(src.sections ?? []);
  const leaves = leafTypes(defaults);
  /** 'gatewaywsport' → 'gateway.wsPort', for environment variable names. */
  const envIndex = new Map([...leaves.keys()].map((p) => [p.replace(/\./g, '').toLowerCase(), p]));
  const merged = structuredClone(defaults);
  const sources = new Map<string, string>();
  const problems: string[] = [];
  const fields: string[] = [];

  const file = src.file ?? src.env?.GATEHOUSE_CONFIG;
  if (file) mergeLayer(merged, readFileLayer(file), sources, `file ${file}`);

  for (const [name, raw] of Object.entries(src.env ?? {})) {
    if (!name.startsWith('GATEHOUSE_') || name === 'GATEHOUSE_CONFIG' || raw === undefined) continue;
    const key = name.slice('GATEHOUSE_'.length).replace(/_/g, '').toLowerCase();
    const path = envIndex.get(key);
    if (!path) {
      problems.push(`environment variable ${name}: no such setting (e.g. GATEHOUSE_PREFIX, GATEHOUSE_NATS_SERVERS)`);
      fields.push(name);
      continue;
    }
    setPath(merged, path, coerce(leaves, path, raw), sources, `env ${name}`);
    if (path === 'nats.servers') setPath(merged, 'bus.kind', 'nats', sources, `env ${name}`);
  }

  for (const [flag, raw] of Object.entries(src.flags ?? {})) {
    if (raw === undefined || raw === false || flag === 'config') continue;
    if (flag === 'set') {
      for (const kv of Array.isArray(raw) ? raw : [String(raw)]) {
        const eq = kv.indexOf('=');
        const path = eq > 0 ? kv.slice(0, eq) : '';
        if (!leaves.has(path)) {
          problems.push(`--set ${kv}: no such setting ${JSON.stringify(path)} (expected path=value, e.g. gateway.wsPort=9000)`);
          fields.push(path || kv);
          continue;
        }
        setPath(merged, path, coerce(leaves, path, kv.slice(eq + 1)), sources, `flag --set ${kv}`);
      }
      continue;
    }
    const path = FLAG_PATHS[flag];
    if (!path) continue; // not a config flag (the CLI owns it)
    setPath(merged, path, coerce(leaves, path, String(raw)), sources, `flag --${flag}`);
    if (flag === 'nats') setPath(merged, 'bus.kind', 'nats', sources, `flag --${flag}`);
  }

  if (src.overrides) mergeLayer(merged, src.overrides as Plain, sources, 'overrides');
  if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`, fields);

  const parsed = schema.safeParse(merged);
  if (parsed.success) return parsed.data as Config;
  for (const issue of parsed.error.issues) {
    const { path, text } = describeIssue(issue, merged, defaults);
    fields.push(path);
    problems.push(`${path}${sourceOf(path, sources)}: ${text}`);
  }
  throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`, fields);
}

function sourceOf(path: string, sources: Map<string, string>): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s) return ` (from ${s})`;
  }
  return '';
}

function valueAt(o: unknown, path: (string | number)[]): unknown {
  let v = o;
  for (const p of path) v = v && typeof v === 'object' ? (v as Plain)[p as string] : undefined;
  return v;
}

function describeIssue(issue: ZodIssue, input: unknown, defaults: Plain): { path: string; text: string } {
  const path = issue.path.join('.') || '<root>';
  const got = JSON.stringify(valueAt(input, issue.path));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = valueAt(defaults, issue.path) as Plain | undefined;
      const allowed = Object.keys(parent ?? {});
      const keys = issue.keys.map((k) => {
        const near = allowed.find((a) => similar(a, k));
        return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
      });
      const at = issue.path.length ? `${path}.${issue.keys[0]}` : issue.keys[0]!;
      return { path: at, text: `unknown field ${keys.join(', ')}; allowed: ${allowed.join(', ')}` };
    }
    case 'invalid_enum_value':
      return { path, text: `expected one of ${issue.options.join(', ')}; got ${got}` };
    case 'invalid_type':
      return { path, text: `expected ${issue.expected}, got ${issue.received === 'undefined' ? 'nothing' : `${issue.received} ${got}`}` };
    case 'too_small':
    case 'too_big':
      return { path, text: `${issue.message.toLowerCase()}; got ${got}` };
    default:
      return { path, text: `${issue.message}; got ${got}` };
  }
}

/** Edit distance ≤ 2 or a case-insensitive match: enough to catch typos like "gatway". */
function similar(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > 2) return false;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]! <= 2;
}
