/** CLI flag parsing shared by every command (node's util.parseArgs: no dependency needed for this much). */
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { BUILTIN_CONFIG_SECTIONS } from '../server/apps.js';

export const CONFIG_FLAGS = {
  config: { type: 'string' },
  prefix: { type: 'string' },
  nats: { type: 'string' },
  roles: { type: 'string' },
  threads: { type: 'string' },
  capacity: { type: 'string' },
  'node-id': { type: 'string' },
  'log-level': { type: 'string' },
  replicas: { type: 'string' },
  app: { type: 'string', multiple: true },
  'gateway-procs': { type: 'string' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = Record<string, string | string[] | boolean | undefined>;

export function parse(argv: string[], extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {}) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CONFIG_FLAGS, ...extra },
    allowPositionals: true,
    strict: true,
  });
  return { flags: values as Flags, positionals };
}

/** The node's config: the core plus the built-in apps' sections (`lobby.…`), each validated with the rest. */
export function configFrom(flags: Flags): Config {
  return loadConfig({ file: flags.config as string | undefined, env: process.env, flags, sections: BUILTIN_CONFIG_SECTIONS });
}
