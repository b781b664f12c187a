/**
 * A node's stop does not wait out the asks of turns in progress: an actor that asks one that will not answer (it is
 * on a node that is stopping too, or gone) gets ACTOR_STOPPED at once when its own node stops, its turn ends with
 * that answer, and its state is written. Before, the stop waited the ask's whole timeout (a session's end hook:
 * 10 s), exactly the bound after which a thread node is terminated, losing what it had not written.
 */
import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, setup } from 'xstate';
import { ActorClient } from '../../../actors/runtime/client.js';
import type { Effect } from '../../../actors/runtime/effects.js';
import { defineKind } from '../../../actors/runtime/kind.js';
import { ManualClock } from '../../../common/clock.js';
import { memoryHosts } from '../../support/memory-hosts.js';
import { startHost, TEST_LIMITS } from '../../support/hosts.js';
import { collector } from '../../../dev/wait.js';

type Ctx = { outcome: string };
type Ev = { type: 'go' } | { type: 'asked'; ok: boolean; error?: { code: string } } | { type: 'get' };

const askerMachine = setup({ types: {} as { context: Ctx; events: Ev; emitted: Effect } }).createMachine({
  context: { outcome: 'none' },
  on: {
    go: { actions: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'ask', to: { kind: 'silent', id: 'x' }, msg: { type: 'hello' }, then: 'asked', timeoutMs: 60_000 })) },
    asked: { actions: assign({ outcome: ({ event }) => (event.type === 'asked' ? (event.ok ? 'answered' : (event.error?.code ?? 'failed')) : 'none') }) },
    get: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'reply', body: context.outcome })) },
  },
});

const asker = defineKind({ name: 'asker', machine: askerMachine, persistence: 'snapshot' });

describe('stopping a node cuts the asks of turns in progress short', () => {
  const m = memoryHosts();

  it('the asking turn ends with ACTOR_STOPPED, its state is written, and the stop does not wait the ask timeout', async () => {
    const prefix = 'stopask';
    // Something subscribed to the asked actor's subject that never answers: the ask waits its 60 s timeout.
    const silent = await m.env.connect(prefix);
    const heard = collector<string>(1);
    silent.subscribe('silent.>', (msg) => heard.push(msg.subject));
    await silent.flush();
    const host = await startHost(m.env, { kinds: [asker], clock: new ManualClock(), prefix, nodeId: 'n1' });
    const client = new ActorClient(await m.env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 60_000 });
    const to = { kind: 'asker', id: 'a1' };
    client.tell(to, { type: 'go' });
    await heard.done; // the turn is now waiting on the ask
    expect(host.stopProgress()).toBeUndefined();
    const stopped = host.stop();
    // The bound: well under the ask's 60 s. Without the cut this await never settles within the test's timeout.
    await stopped;
    expect(host.stopProgress()).toEqual({ left: 0, waitingOn: [] });
    // A node started on the same store finds the turn's outcome written.
    const again = await startHost(m.env, { kinds: [asker], clock: new ManualClock(), prefix, nodeId: 'n2' });
    m.hosts.push(again);
    expect(await client.ask(to, { type: 'get' })).toBe('ACTOR_STOPPED');
    await silent.close();
  });
});
