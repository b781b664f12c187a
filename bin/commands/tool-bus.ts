/** Tools (tail, inspect, status...) talk to a running deployment over NATS: an embedded bus lives inside its process. */
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { GatehouseError } from '../../common/errors.js';
import type { Config } from '../../config/schema.js';
import { natsOptions } from '../../config/nats-options.js';

export async function connectTool(config: Config): Promise<Bus> {
  if (config.bus.kind !== 'nats') {
    throw new GatehouseError(
      'USAGE',
      'this command talks to a running deployment over NATS: give --nats URL (an embedded node keeps its bus inside its process)',
    );
  }
  return createNatsBus(natsOptions(config, 'gatehouse tool'));
}
