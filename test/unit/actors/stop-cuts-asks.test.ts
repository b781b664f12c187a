/**
 * A node's stop does not wait out the asks of turns in progress. An ask a turn is waiting on when its node stops gets
 * `actors.stopAskGraceMs` to be answered: an answer within it is used as usual (a live actor on another node answers
 * in ms, and a rolling restart must not fail the lobby actions in flight). After it, the ask ends with ACTOR_STOPPED,
 * the turn ends with that answer, and its state is written. Before, the stop waited the ask's whole timeout (a
 * session's end hook: 10 s), exactly the bound after which a thread node is terminated, losing what it had not written.
 */
import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, setup } from 'xstate';
import { ActorClient } from '../../../actors/runtime/client.js';
import type { Effect } from '../../../actors/runtime/effects.js';
import { defineKind } from '../../../actors/runtime/kind.js';
import type { BusMsg } from '../../../bus/bus.js';
import { ManualClock } from '../../../common/clock.js';
import { encodeReply } from '../../../actors/runtime/envelope.js';
import { memoryHosts } from '../../support/memory-hosts.js';
import { startHost, TEST_LIMITS } from '../../support/hosts.js';
import { collector } from '../../../dev/wait.js';

type Ctx = { outcome: string };
type Ev = { type: 'go' } | { type: 'asked'; ok: boolean; body?: unknown; error?: { code: string } } | { type: 'get' };

const askerMachine = setup({ types: {} as { context: Ctx; events: Ev; emitted: Effect } }).createMachine({
  context: { outcome: 'none' },
  on: {
    go: { actions: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'ask', to: { kind: 'other', id: 'x' }, msg: { type: 'hello' }, then: 'asked', timeoutMs: 60_000 })) },
    asked: { actions: assign({ outcome: ({ event }) => (event.type !== 'asked' ? 'none' : event.ok ? `answered ${String(event.body)}` : (event.error?.code ?? 'failed')) }) },
    get: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'reply', body: context.outcome })) },
  },
});

const asker = defineKind({ name: 'asker', machine: askerMachine, persistence: 'snapshot' });

describe('stopping a node: asks of turns in progress get a grace, then end', () => {
  const m = memoryHosts();
  let t = 0;

  /** A node whose `asker/a1` is waiting on an ask to `other/x`, which something holds without answering. */
  async function waitingAsker(grace: number) {
    const prefix = `stopask${++t}`;
    const other = await m.env.connect(prefix);
    const held = collector<BusMsg>(1);
    other.subscribe('other.>', (msg) => held.push(msg));
    await other.flush();
    const clock = new ManualClock();
    const host = await startHost(m.env, { kinds: [asker], clock, prefix, nodeId: `n${t}`, limits: { stopAskGraceMs: grace } });
    const client = new ActorClient(await m.env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 60_000 });
    const to = { kind: 'asker', id: 'a1' };
    client.tell(to, { type: 'go' });
    const [asked] = await held.done; // the turn is now waiting on the ask
    const outcomeOnAnotherNode = async () => {
      const again = await startHost(m.env, { kinds: [asker], clock: new ManualClock(), prefix, nodeId: `n${t}b` });
      m.hosts.push(again);
      return client.ask(to, { type: 'get' });
    };
    return { host, clock, other, asked: asked!, outcomeOnAnotherNode };
  }

  it('an ask left unanswered ends with ACTOR_STOPPED after the grace; the turn writes it; the stop does not wait the ask timeout', async () => {
    const w = await waitingAsker(1000);
    expect(w.host.stopProgress()).toBeUndefined();
    const stopped = w.host.stop();
    w.clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(w.host.stopProgress()).toMatchObject({ left: 1, waitingOn: ['asker/a1 (active, in a turn, 0 queued)'] });
    w.clock.advance(1);
    await stopped;
    expect(w.host.stopProgress()).toEqual({ left: 0, waitingOn: [] });
    expect(await w.outcomeOnAnotherNode()).toBe('ACTOR_STOPPED');
    await w.other.close();
  });

  it('an answer that arrives within the grace is used as usual', async () => {
    const w = await waitingAsker(1000);
    const stopped = w.host.stop();
    w.clock.advance(500);
    w.other.respond(w.asked, encodeReply({ ok: true, v: 'hi' }));
    await stopped;
    expect(await w.outcomeOnAnotherNode()).toBe('answered hi');
    await w.other.close();
  });
});
