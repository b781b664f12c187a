/**
 * A kind's `restore` (actors/runtime/kind.ts): a durable actor started from its stored snapshot gets it adjusted
 * first, so a field its input takes from the node's configuration follows a configuration change, while the state
 * the actor built keeps. A fresh actor is built from its input and never goes through it; a `restore` that throws
 * fails the start with ACTOR_FAILED and leaves the stored record as it was; `reapplyInput`, the ready-made one. On the
 * in-memory bus and store.
 */
import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, setup } from 'xstate';
import { ActorClient } from '../../../actors/runtime/client.js';
import type { Effect } from '../../../actors/runtime/effects.js';
import { defineKind, reapplyInput, type ActorKind } from '../../../actors/runtime/kind.js';
import { ManualClock } from '../../../common/clock.js';
import { memoryHosts } from '../../support/memory-hosts.js';
import { startHost, TEST_LIMITS } from '../../support/hosts.js';

type Ctx = { id: string; limit: number; count: number };

const machine = setup({
  types: {} as { context: Ctx; input: { id: string; limit: number }; events: { type: 'inc' } | { type: 'get' }; emitted: Effect },
}).createMachine({
  context: ({ input }) => ({ ...input, count: 0 }),
  on: {
    inc: { guard: ({ context }) => context.count < context.limit, actions: assign({ count: ({ context }) => context.count + 1 }) },
    get: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'reply', body: { limit: context.limit, count: context.count } })) },
  },
});

function boundedKind(limit: number, restore?: ActorKind['restore']): ActorKind {
  return defineKind({
    name: 'bounded',
    machine,
    persistence: 'snapshot',
    input: (id) => ({ id, limit }),
    ...(restore && { restore }),
  });
}

const withLimit = (limit: number) => (s: unknown) => {
  const snap = s as { context: Ctx };
  return { ...snap, context: { ...snap.context, limit } };
};

describe('kind restore', () => {
  const m = memoryHosts();
  /** Node ids and test prefixes, unique in this file. */
  let n = 0;
  let t = 0;

  async function node(prefix: string, kind: ActorKind) {
    const host = await startHost(m.env, { kinds: [kind], clock: new ManualClock(), prefix, nodeId: `n${++n}` });
    m.hosts.push(host);
    const client = new ActorClient(await m.env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
    const to = { kind: 'bounded', id: 'a1' };
    return { host, ask: (type: 'inc' | 'get') => client.ask<{ limit: number; count: number }>(to, { type }) };
  }

  it('adjusts a stored snapshot before the actor starts from it; the state it built keeps', async () => {
    const prefix = `restore${++t}`;
    const calls: unknown[] = [];
    const restore = (s: unknown, id: string) => (calls.push(id), withLimit(3)(s));
    const a = await node(prefix, boundedKind(2, restore));
    for (let i = 0; i < 4; i++) await a.ask('inc');
    expect(await a.ask('get')).toEqual({ limit: 2, count: 2 });
    // Fresh: built from the input, not through restore.
    expect(calls).toEqual([]);
    await a.host.stop();
    const b = await node(prefix, boundedKind(2, restore));
    expect(await b.ask('get')).toEqual({ limit: 3, count: 2 });
    expect(calls).toEqual(['a1']);
    await b.ask('inc');
    await b.ask('inc');
    expect(await b.ask('get')).toEqual({ limit: 3, count: 3 });
  });

  /** A record stored with limit 2 and count 1 by a node now stopped; its prefix. */
  async function storedRecord(): Promise<string> {
    const prefix = `restore${++t}`;
    const a = await node(prefix, boundedKind(2));
    await a.ask('inc');
    await a.host.stop();
    return prefix;
  }

  it('without restore the stored context stays as it was written, whatever the input says now', async () => {
    const prefix = await storedRecord();
    const b = await node(prefix, boundedKind(5));
    expect(await b.ask('get')).toEqual({ limit: 2, count: 1 });
  });

  it('reapplyInput lays the current input over a stored context; an id the input refuses keeps its stored values', () => {
    const kind = defineKind({
      name: 'bounded',
      machine,
      input: (id) => {
        if (id === 'gone') throw new Error('no such id here');
        return { id, limit: 7 };
      },
    });
    const stored = { status: 'active', value: {}, context: { id: 'a1', limit: 2, count: 2 } };
    expect(reapplyInput.call(kind, stored, 'a1')).toEqual({ ...stored, context: { id: 'a1', limit: 7, count: 2 } });
    expect(reapplyInput.call(kind, { ...stored, context: { ...stored.context, id: 'gone' } }, 'gone')).toMatchObject({ context: { limit: 2 } });
    expect(reapplyInput.call(kind, null, 'a1')).toBeNull();
  });

  it('a restore that throws fails the start with ACTOR_FAILED and leaves the stored record alone', async () => {
    const prefix = await storedRecord();
    const b = await node(
      prefix,
      boundedKind(2, () => {
        throw new Error('cannot read this record');
      }),
    );
    await expect(b.ask('get')).rejects.toMatchObject({ code: 'ACTOR_FAILED' });
    await b.host.stop();
    const c = await node(prefix, boundedKind(2));
    expect(await c.ask('get')).toEqual({ limit: 2, count: 1 });
  });
});
