/**
 * The implementations every contract suite runs against. Each `setup()` returns something disposable: the NATS side
 * starts its own nats-server (JetStream on, random loopback port) and stops it in teardown.
 */
import type { Bus } from '../../bus/bus.js';
import type { Store } from '../../bus/store.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { MemoryKvServer } from '../../bus/memory-store.js';
import { ThreadBroker } from '../../bus/thread/thread-broker.js';
import { createThreadBus } from '../../bus/thread/thread-bus.js';
import { ThreadStoreServer } from '../../bus/thread/store-server.js';
import { createThreadStore } from '../../bus/thread/thread-store.js';
import { MessageChannel } from 'node:worker_threads';
import { openLmdbStore } from '../../bus/lmdb-store.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { ManualClock, systemClock, type Clock } from '../../common/clock.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../../dev/nats-server.js';

export interface Env {
  connect(prefix: string): Promise<Bus>;
  store(prefix: string): Promise<Store>;
  /** Lets stored entries age: moves the injected clock (memory, lmdb) or waits for real time to pass (NATS). */
  age(ms: number): Promise<void>;
  readonly clock: Clock;
  readonly url?: string;
  teardown(): Promise<void>;
}

export interface Impl {
  name: 'memory' | 'nats' | 'lmdb' | 'thread';
  setup(): Promise<Env>;
}

/**
 * An embedded environment: the in-memory bus and a store opened by `openStore`, expiry on a ManualClock, every bus and
 * store closed in teardown, then `cleanup`.
 */
function embeddedEnv(
  clock: ManualClock,
  openStore: (prefix: string) => Promise<Store>,
  cleanup: () => unknown = () => {},
  /** How a bus on the env's broker is made (default: a MemoryBroker connection; the thread impl: a thread bus). */
  connectTo: (broker: MemoryBroker, prefix: string) => Bus = (broker, prefix) => broker.connect({ prefix }),
  broker = new MemoryBroker(),
): Env {
  const opened: Array<Bus | Store> = [];
  return {
    clock,
    async connect(prefix) {
      const b = connectTo(broker, prefix);
      opened.push(b);
      return b;
    },
    async store(prefix) {
      const s = await openStore(prefix);
      opened.push(s);
      return s;
    },
    async age(ms) {
      clock.advance(ms);
    },
    async teardown() {
      await Promise.all(opened.map((o) => o.close()));
      await cleanup();
    },
  };
}

export const memoryImpl: Impl = {
  name: 'memory',
  async setup() {
    const clock = new ManualClock();
    const kv = new MemoryKvServer(clock);
    return embeddedEnv(clock, async (prefix) => kv.store(prefix));
  },
};

/** The embedded on-disk store: LMDB in a temporary directory per setup (removed in teardown). */
export const lmdbImpl: Impl = {
  name: 'lmdb',
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lmdb-'));
    const clock = new ManualClock();
    return embeddedEnv(clock, (prefix) => openLmdbStore({ path: dir, prefix, clock }), () => rmSync(dir, { recursive: true, force: true }));
  },
};

export const natsImpl: Impl = {
  name: 'nats',
  async setup() {
    const server = await startNatsServer();
    const opened: Array<Bus | Store> = [];
    const buses: Array<Awaited<ReturnType<typeof createNatsBus>>> = [];
    return {
      clock: systemClock,
      url: server.url,
      async connect(prefix) {
        const b = await createNatsBus({ prefix, servers: [server.url] });
        opened.push(b);
        buses.push(b);
        return b;
      },
      async store(prefix) {
        const b = await createNatsBus({ prefix, servers: [server.url] });
        buses.push(b);
        const s = createNatsStore({ connection: b.connection, prefix });
        opened.push(s);
        return s;
      },
      async age(ms) {
        await new Promise((r) => setTimeout(r, ms));
      },
      async teardown() {
        for (const o of opened) await o.close().catch(() => undefined);
        for (const b of buses) await b.close().catch(() => undefined);
        await server.stop();
      },
    };
  },
};

/**
 * The thread bus (bus/thread/): each connection is a MessageChannel, one port served by a ThreadBroker over the
 * environment's MemoryBroker, the other a ThreadBus; both ends in this thread (test/integration/thread-bus.test.ts
 * runs real workers). The store is the memory impl's: the thread bus carries no store.
 */
export const threadImpl: Impl = {
  name: 'thread',
  async setup() {
    const clock = new ManualClock();
    const kv = new MemoryKvServer(clock);
    const broker = new MemoryBroker();
    const threads = new ThreadBroker({ broker });
    const viaThread = (_b: MemoryBroker, prefix: string) => {
      const { port1, port2 } = new MessageChannel();
      threads.serve(port1);
      return createThreadBus(port2, { prefix });
    };
    return embeddedEnv(clock, async (prefix) => kv.store(prefix), () => threads.close(), viaThread, broker);
  },
};

export const impls: Impl[] = [memoryImpl, natsImpl, threadImpl];
/**
 * For suites whose nodes start through useTestCluster (test/support/cluster-nodes.ts): it starts them on NATS or on an
 * embedded broker, not on a thread bus, so `thread` there would only repeat `memory` with a client on another broker.
 */
export const clusterImpls: Impl[] = impls.filter((i) => i !== threadImpl);

/**
 * The thread store (bus/thread/): each store is a MessageChannel, one port served by a ThreadStoreServer over the
 * store the memory impl would open (a MemoryKvServer on the env's ManualClock, so `age` moves its expiry), the other a
 * thread-side Store; both ends in this thread (test/integration/thread-store.test.ts). The bus is the memory impl's.
 */
export const threadStoreImpl: Impl = {
  name: 'thread',
  async setup() {
    const clock = new ManualClock();
    const kv = new MemoryKvServer(clock);
    return embeddedEnv(clock, async (prefix) => {
      const served = kv.store(prefix);
      const server = new ThreadStoreServer(served);
      const { port1, port2 } = new MessageChannel();
      server.serve(port1);
      const store = createThreadStore(port2, { kind: served.kind });
      // The server and the served store are the main thread's: closed with the thread's store here.
      const closeThread = store.close.bind(store);
      return Object.assign(store, {
        close: async () => {
          await closeThread();
          await server.close();
          await served.close();
        },
      });
    });
  },
};

/** The Store contract runs on every Store: the embedded on-disk one too, and the thread store. */
export const storeImpls: Impl[] = [memoryImpl, natsImpl, lmdbImpl, threadStoreImpl];
