/** The apps a gatehouse node hosts: the built-in ones, plus app modules named in config (`node.apps`, `--app`). */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoApp } from '../actors/demo/counter.js';
import { chatApp, chatConfig, createChatApp } from '../chat/index.js';
import { ConfigError, errorMessage } from '../common/errors.js';
import type { Config } from '../config/schema.js';
import { readSection, type ConfigSection } from '../config/sections.js';
import { gatewayKindsApp } from '../gateway/kinds.js';
import { createLobbyApp, lobbyApp, lobbyConfig } from '../lobby/index.js';
import type { App } from '../node-api/app.js';

/** The built-in apps' names (`node.builtinApps` picks among them; all of them by default). */
export const BUILTIN_APPS = ['gateway', 'demo', 'chat', 'lobby'] as const;
export type BuiltinApp = (typeof BUILTIN_APPS)[number];

/**
 * The config sections of the built-in apps (demo has none): whoever loads a node's config passes these to
 * loadConfig so `lobby.…` settings are layered and validated with the rest.
 */
export const BUILTIN_CONFIG_SECTIONS: readonly ConfigSection[] = [lobbyConfig, chatConfig];

const isBuiltin = (name: string): name is BuiltinApp => (BUILTIN_APPS as readonly string[]).includes(name);

export function defaultApps(config?: Config): App[] {
  // gatewayKindsApp on every node: `conn` actors live on gateways, `session` and `identity` actors on workers.
  const all: Record<BuiltinApp, () => App> = {
    gateway: () => gatewayKindsApp,
    demo: () => demoApp,
    chat: () => (config ? createChatApp(readSection(config, chatConfig)) : chatApp),
    lobby: () => (config ? createLobbyApp(readSection(config, lobbyConfig)) : lobbyApp),
  };
  const chosen = config?.node.builtinApps ?? BUILTIN_APPS;
  const unknown = chosen.filter((name) => !isBuiltin(name));
  if (unknown.length) {
    const names = unknown.map((n) => JSON.stringify(n)).join(', ');
    throw new ConfigError(`node.builtinApps: no built-in app ${names}; built-in apps: ${BUILTIN_APPS.join(', ')}`, ['node.builtinApps']);
  }
  return chosen.filter(isBuiltin).map((name) => all[name]());
}

const isApp = (a: unknown): a is App =>
  !!a && typeof a === 'object' && typeof (a as App).name === 'string' && Array.isArray((a as App).kinds);

/** defaultApps() plus every module of `config.node.apps`, each exporting `app` or `apps`. */
export async function loadApps(config: Config): Promise<App[]> {
  const apps = defaultApps(config);
  for (const spec of config.node.apps) {
    const local = spec.startsWith('.') || isAbsolute(spec);
    let mod: { app?: unknown; apps?: unknown };
    try {
      mod = (await import(local ? pathToFileURL(resolve(spec)).href : spec)) as typeof mod;
    } catch (err) {
      throw new ConfigError(`node.apps: cannot load ${spec}: ${errorMessage(err)}`, ['node.apps'], { cause: err });
    }
    const found = Array.isArray(mod.apps) ? mod.apps : mod.app !== undefined ? [mod.app] : [];
    if (found.length === 0 || !found.every(isApp)) {
      throw new ConfigError(`node.apps: ${spec} must export \`app\` (or \`apps\`): {name, kinds, gateway?}`, ['node.apps']);
    }
    for (const a of found) {
      if (apps.some((b) => b.name === a.name)) throw new ConfigError(`node.apps: ${spec} brings app ${a.name}, which is already loaded`, ['node.apps']);
      apps.push(a);
    }
  }
  return apps;
}
