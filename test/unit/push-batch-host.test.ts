/**
 * Push batching through an ActorHost (in-memory bus, ManualClock, a tick long enough that only a flush sends a push):
 * a tell leaves after the pushes emitted before it, to a pinned actor (a connection's `kick`, on its gateway) as to
 * any other (whatever it pushes in answer comes after); the host's stop sends what still waits and leaves no tick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emit, setup } from 'xstate';
import { ActorHost } from '../../actors/runtime/host.js';
import type { Effect } from '../../actors/runtime/effects.js';
import { defineKind } from '../../actors/runtime/kind.js';
import { ActorClient } from '../../actors/runtime/client.js';
import type { BusMsg } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { eventually } from '../../dev/wait.js';
import { memoryImpl, type Env } from '../support/impls.js';
import { TEST_LIMITS } from '../support/hosts.js';

const CONN = { gw: 'g1', id: 'c1' };
const CONN_ADDRESS = { kind: 'conn', id: CONN.id, node: CONN.gw };
/** A sharded actor no host here runs: only the tap hears it. */
const OTHER = { kind: 'pbother', id: 'o1' };

type Ev = { type: 'bye' } | { type: 'say'; text: string } | { type: 'pass' };
/** `bye`: a last push to the connection, then a tell to its (pinned) actor to close it. `say`: a push. */
const roomKind = defineKind({
  name: 'pbroom',
  machine: setup({ types: {} as { events: Ev; emitted: Effect } }).createMachine({
    on: {
      bye: {
        actions: [
          emit({ type: 'push', to: CONN, route: 'bye', body: 'last words' }),
          emit({ type: 'tell', to: CONN_ADDRESS, msg: { type: 'kick' } }),
        ],
      },
      say: { actions: emit(({ event }) => ({ type: 'push', to: CONN, route: 'say', body: event.text })) },
      pass: { actions: emit({ type: 'tell', to: OTHER, msg: { type: 'hello' } }) },
    },
  }),
  persistence: 'none',
});

describe('push batching in the host', () => {
  let env: Env;
  let n = 0;
  beforeAll(async () => {
    env = await memoryImpl.setup();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function rig() {
    const prefix = `pbh${++n}`;
    const clock = new ManualClock();
    const host = new ActorHost({
      nodeId: 'w1',
      bus: await env.connect(prefix),
      clock,
      kinds: [roomKind],
      limits: { ...TEST_LIMITS, pushTickMs: 60_000 },
      ownAllShards: true,
    });
    await host.start();
    // What gateway g1 sees, in arrival order: its push inbox and its connection actor's inbox.
    const tap = await env.connect(prefix);
    const client = new ActorClient(tap, { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
    const seen: string[] = [];
    const record = (m: BusMsg) => {
      if (m.subject === subjects.gateway('g1', 'push')) {
        const v = decode<Array<{ r: string }> | { r: string }>(m.data);
        for (const p of Array.isArray(v) ? v : [v]) seen.push(`push ${p.r}`);
      } else seen.push(m.subject === client.subjectOf(OTHER) ? 'tell other' : 'tell conn');
    };
    tap.subscribe(subjects.gateway('g1', 'push'), record);
    tap.subscribe(client.subjectOf(CONN_ADDRESS), record);
    tap.subscribe(client.subjectOf(OTHER), record);
    await tap.flush();
    return { host, client, clock, seen };
  }

  it('sends a turn’s pushes before its tell to a pinned actor', async () => {
    const { host, client, seen } = await rig();
    await client.ask({ kind: 'pbroom', id: 'r1' }, { type: 'say', text: 'hi' });
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'bye' });
    await eventually(() => seen.length >= 3);
    expect(seen).toEqual(['push say', 'push bye', 'tell conn']);
    await host.stop();
  });

  it('sends earlier turns’ pushes before a tell to any actor', async () => {
    const { host, client, seen } = await rig();
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'say', text: 'one' });
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'pass' });
    await eventually(() => seen.length >= 2);
    expect(seen).toEqual(['push say', 'tell other']);
    await host.stop();
  });

  it('sends what waits before a shard is handed over, so the new owner’s pushes come after', async () => {
    const { host, client, seen } = await rig();
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'say', text: 'last here' });
    await eventually(() => host.effects.waiting === 1);
    await host.releaseShard('pbroom', client.shardOf('r1'));
    expect(host.effects.waiting).toBe(0);
    await eventually(() => seen.length === 1);
    expect(seen).toEqual(['push say']);
    await host.stop();
  });

  it('sends what waits when the host stops, with no tick left', async () => {
    const { host, client, clock, seen } = await rig();
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'say', text: 'one' });
    client.tell({ kind: 'pbroom', id: 'r1' }, { type: 'say', text: 'two' });
    await eventually(() => host.effects.waiting === 2);
    expect(seen).toEqual([]);
    await host.stop();
    await eventually(() => seen.length === 2);
    expect(seen).toEqual(['push say', 'push say']);
    expect(host.effects.waiting).toBe(0);
    // Nothing of the sink's is left on the clock: a tick would have fired here.
    clock.advance(60_000);
    expect(seen).toHaveLength(2);
  });
});
