/**
 * Tools (tail, inspect, status, ask, tell) talk to a running deployment: over NATS with `--nats`, else to an embedded
 * node through the control socket in its data directory (`--data DIR`, default store.path: server/control-socket.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { TOOL_INBOX } from '../../bus/subjects.js';
import { CONTROL_SOCKET, SocketBus } from '../../bus/socket/socket-bus.js';
import { GatehouseError, errorMessage } from '../../common/errors.js';
import type { Config } from '../../config/schema.js';
import { natsOptions } from '../../config/nats-options.js';

export async function connectTool(config: Config): Promise<Bus> {
  if (config.bus.kind === 'nats') return createNatsBus({ ...natsOptions(config, 'gatehouse tool'), inbox: TOOL_INBOX });
  return connectEmbedded(config);
}

/** The control socket of the embedded node running on `store.path`, or a USAGE error saying what to give. */
export async function connectEmbedded(config: Config): Promise<SocketBus> {
  const dir = resolve(config.store.path);
  const path = join(dir, CONTROL_SOCKET);
  const hint = 'give --data DIR (the node\'s store.path) for an embedded node, or --nats URL for a cluster';
  if (!existsSync(path)) throw new GatehouseError('USAGE', `no running embedded node in ${dir} (no ${CONTROL_SOCKET}): ${hint}`);
  try {
    return await SocketBus.connect(path);
  } catch (e) {
    throw new GatehouseError('USAGE', `no running embedded node answers on ${path} (${errorMessage(e)}): ${hint}`, { cause: e });
  }
}
