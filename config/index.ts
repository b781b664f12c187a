export { configSchema, type Config, type Role } from './schema.js';
export { DEFAULTS } from './defaults.js';
export { loadConfig, type ConfigSources, type DeepPartial } from './load.js';
export { readSection, type ConfigSection } from './sections.js';
