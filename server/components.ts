/**
 * The components a node runs besides its actor host, chosen from config: the gateway for the gateway role, the
 * cluster layer when on NATS. Later issues register theirs here.
 */
import type { Config } from '../config/schema.js';
import type { NodeOptions } from './node.js';

export function nodeComponents(config: Config): Pick<NodeOptions, 'cluster' | 'components'> {
  void config;
  return { components: [] };
}
