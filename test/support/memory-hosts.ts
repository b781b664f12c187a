/**
 * A describe block's in-memory bus and store (test/support/impls.ts) and the hosts its tests start, stopped after each
 * test (also when it fails) and the env after the block: the set-up the single-bus runtime tests share.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ActorHost } from '../../actors/runtime/host.js';
import { memoryImpl, type Env } from './impls.js';

export interface MemoryHosts {
  /** Set in beforeAll. */
  readonly env: Env;
  /** Hosts to stop after the current test: push every host started. */
  readonly hosts: ActorHost[];
}

export function memoryHosts(): MemoryHosts {
  let env: Env | undefined;
  const hosts: ActorHost[] = [];
  beforeAll(async () => {
    env = await memoryImpl.setup();
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('memoryHosts: env used before beforeAll');
      return env;
    },
    hosts,
  };
}
