/**
 * Config sections owned by apps. The core schema (schema.ts) knows only what the runtime needs; an app that wants
 * settings declares a section (its own zod schema and defaults, e.g. lobby/config.ts) and the wiring hands the
 * sections to loadConfig. A section is a top-level key like any other: the file's `"lobby": {…}`, GATEHOUSE_LOBBY_*
 * variables, `--set lobby.refreshMs=2000`; a bad value fails the load naming the field and where it came from.
 */
import type { z } from 'zod';
import type { Config } from './schema.js';

export interface ConfigSection<T = unknown> {
  /** The section's top-level key: the app's name. */
  readonly key: string;
  /** Validates the whole section (after layering); issues are reported under `<key>.`. */
  readonly schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  /**
   * Every field's default, frozen. The loader reads each leaf's type from here to parse env and `--set` strings,
   * so a leaf without a default cannot be set that way.
   */
  readonly defaults: Readonly<T>;
}

/**
 * An app's section of a loaded config. loadConfig validated it when it was given the section; a config loaded
 * without it (tests, tools that host no such app) has none, and the app gets its defaults.
 */
export function readSection<T>(config: Config, section: ConfigSection<T>): T {
  const value = (config as unknown as Record<string, unknown>)[section.key];
  return value === undefined ? (section.defaults as T) : (value as T);
}
