/**
 * The flags every command that reads a node's configuration shares (commander options), and the step from parsed
 * options to a validated Config: defaults < --config FILE < GATEHOUSE_* environment < flags (config/load.ts).
 */
import { Command, Option } from 'commander';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { portBaseSets } from '../config/ports.js';
import { BUILTIN_CONFIG_SECTIONS } from '../server/apps.js';

/** Parsed options as commander gives them (camelCase keys). */
export type Opts = Record<string, unknown>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Adds the shared configuration flags to `cmd`, shown under their own heading in its help. Every config setting is
 * reachable with `--set path=value` (repeatable; the list of settings is config/defaults.ts and docs/OPERATIONS.md).
 */
export function withConfigOptions(cmd: Command): Command {
  const group = 'Common options (every command that reads the configuration):';
  const opts = [
    new Option('--config <file>', 'JSON config file (also GATEHOUSE_CONFIG)'),
    new Option('--prefix <p>', 'deployment name: subject and bucket prefix (default gh)'),
    new Option('--nats <urls>', 'join a NATS bus: nats://host:port[,nats://...] (default: the embedded bus)'),
    new Option('--data <dir>', 'data directory of an embedded node (LMDB store, control socket; default ./data)'),
    new Option('--roles <roles>', 'node roles: gateway,worker (default both)'),
    new Option('--threads <n>', "extra worker nodes in worker threads of this process (on NATS, or embedded: the threads share this process's bus and store)"),
    new Option('--capacity <n>', 'relative share of shards this node takes (default 1)'),
    new Option('--node-id <id>', 'node id (default: host-pid-random)'),
    new Option('--replicas <n>', 'JetStream replicas of the deployment\'s buckets'),
    new Option('--gateway-procs <n>', 'gateway processes sharing this node\'s gateway ports (needs --nats)'),
    new Option('--port-base <n>', 'every port from one base: ws +0, tcp +1, pomelo ws +2, pomelo tcp +3, http +4, ops/metrics +5; threads and spawned nodes take +6 on'),
    new Option('--app <module>', 'load an app module exporting `app` (repeatable; see docs/APPS.md)').argParser(collect),
    new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)'),
    new Option('--log-format <format>', 'pretty (readable) or json; default: pretty on a terminal, json when piped').choices(['auto', 'pretty', 'json']),
    new Option('--set <path=value>', 'any config setting (repeatable), e.g. --set gateway.wsPort=9000').argParser(collect),
  ];
  for (const o of opts) cmd.addOption(o.helpGroup(group));
  return cmd;
}

/** Commander's camelCase option names → the flag names config/load.ts knows (its FLAG_PATHS). */
const FLAG_NAMES: Record<string, string> = {
  prefix: 'prefix',
  nats: 'nats',
  roles: 'roles',
  threads: 'threads',
  capacity: 'capacity',
  nodeId: 'node-id',
  logLevel: 'log-level',
  replicas: 'replicas',
  app: 'app',
  gatewayProcs: 'gateway-procs',
};

/**
 * The node's config: the core plus the built-in apps' sections (`lobby.…`), each validated with the rest. `--data DIR`
 * is an embedded node's LMDB directory (it wins); `--port-base` and `--log-format` are `--set`s before the user's own.
 */
export function configFrom(opts: Opts): Config {
  const flags: Record<string, string | string[] | undefined> = {};
  for (const [key, flag] of Object.entries(FLAG_NAMES)) {
    const v = opts[key];
    if (typeof v === 'string' || (Array.isArray(v) && v.length > 0)) flags[flag] = v as string | string[];
  }
  const sets = [
    ...portBaseSets(opts.portBase as string | undefined),
    ...(typeof opts.logFormat === 'string' ? [`log.format=${opts.logFormat}`] : []),
    ...((opts.set as string[] | undefined) ?? []),
    // Last, as before commander: --data names the directory whatever the environment or --set said.
    ...(typeof opts.data === 'string' ? ['store.kind=lmdb', `store.path=${opts.data}`] : []),
  ];
  if (sets.length) flags.set = sets;
  return loadConfig({ file: opts.config as string | undefined, env: process.env, flags, sections: BUILTIN_CONFIG_SECTIONS });
}

/** Parsed options back into flags (for child processes given "the same flags"): every option given, in flag form. */
export function configArgs(opts: Opts, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(opts)) {
    if (skip.includes(key) || v === undefined || v === false) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    if (v === true) out.push(flag);
    else for (const one of Array.isArray(v) ? v : [v]) out.push(flag, String(one));
  }
  return out;
}
