/**
 * What every node component (cluster, gateway, ops endpoint) is given and gives back. It lives below the components
 * and the wiring (server/) so that they can share it without importing each other.
 */
import type { Logger } from 'pino';
import type { ActorHost } from '../actors/runtime/host.js';
import type { Bus } from '../bus/bus.js';
import type { Store } from '../bus/store.js';
import type { Clock } from '../common/clock.js';
import type { Config } from '../config/schema.js';
import type { App } from './app.js';

export interface NodeComponent {
  readonly name: string;
  stop(): Promise<void>;
  /** Contributes to `status`. */
  status?(): Record<string, unknown>;
}

export interface NodeContext {
  readonly id: string;
  readonly config: Config;
  readonly bus: Bus;
  /** A connection of its own for cluster control and migration hand-over, so they never queue behind actor traffic
   * (the same bus as `bus` seen from outside: any connection reaches what is subscribed here). */
  readonly control: Bus;
  /**
   * A gateway node's connection for gateway channels (gateway/channels.ts) that does not get its own publishes back
   * (NATS no_echo); absent in memory mode, where the channels use `bus` and skip their own messages.
   */
  readonly channelBus?: Bus;
  readonly store: Store;
  readonly host: ActorHost;
  readonly apps: App[];
  readonly clock: Clock;
  readonly log: Logger;
  /** The node's status (actors, and every component's own status): for `status`, the ops page, tests. */
  status(): Record<string, unknown>;
  /** The node's NATS connections (data, store, control), each movable to the next server of its list; absent in memory mode. */
  readonly connections?: readonly NodeConnection[];
}

/** One of a node's NATS connections, for moving it off a server cut off from the others (cluster/reach.ts). */
export interface NodeConnection {
  /** 'data', 'store' or 'control': for logs. */
  readonly role: string;
  readonly bus: Bus;
  reconnect(): Promise<void>;
}
