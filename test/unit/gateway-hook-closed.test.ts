/**
 * A gateway that stops while apps' onSessionEnd hooks run cannot answer the session's ask: its bus is closed. That
 * answer is dropped and logged. It used to throw from the hooks' promise: an unhandled rejection, which ends a Node
 * process (seen in the suite when a test stopped its nodes mid-hook). The session asks again later: at least once.
 */
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../actors/runtime/envelope.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { subjects } from '../../bus/subjects.js';
import { startHookService } from '../../gateway/hooks.js';
import type { RouteTable } from '../../gateway/routes.js';
import { captureLogger } from '../support/hosts.js';

describe('session-end hooks on a gateway that stops meanwhile', () => {
  it('drop the answer with a log line, and nothing is thrown', async () => {
    const broker = new MemoryBroker();
    const gwBus = broker.connect({ prefix: 'hk' });
    const sessionBus = broker.connect({ prefix: 'hk' });
    const { log, lines } = captureLogger();
    let hookStarted!: () => void;
    const started = new Promise<void>((r) => (hookStarted = r));
    let finishHook!: () => void;
    const hookDone = new Promise<void>((r) => (finishHook = r));
    const routes: RouteTable = {
      native: () => undefined,
      pomelo: () => undefined,
      dictionary: undefined,
      apps: [{ name: 'slow', gateway: { routes: {}, onSessionEnd: async () => (hookStarted(), hookDone) } }],
    };
    startHookService(gwBus, routes, new ActorClient(gwBus, { shards: 8, askTimeoutMs: 5000 }), log);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const asked = sessionBus.request(subjects.pinned('gw', 'any', 's1'), encodeEnvelope({ m: { type: 'session-end', session: 's1', data: {} } }), { timeoutMs: 200 });
      asked.catch(() => undefined);
      await started;
      await gwBus.close();
      finishHook();
      await expect(asked).rejects.toMatchObject({ code: 'TIMEOUT' });
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
      expect(lines.some((l) => l.msg === 'session-end answer not sent: the bus is closed')).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await sessionBus.close();
    }
  });
});
