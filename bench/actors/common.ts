/**
 * What the actor benchmarks (actors, embedded, memory) and their peers agree on: one machine, run either as a
 * gatehouse actor kind or as bare XState actors, so every ratio compares the same XState work.
 *
 * The machine is the demo counter's (`inc` assigns and emits a reply): the smallest real actor we ship. The kind keeps
 * it in memory only (persistence 'none'): these benchmarks measure the runtime and the bus, not the store.
 */
import { Packr, Unpackr } from 'msgpackr';
import { createActor, type AnyActor } from 'xstate';
import { counterMachine } from '../../actors/demo/counter.machine.js';
import { defineKind } from '../../actors/runtime/kind.js';
import type { Config } from '../../config/index.js';
import { testConfig } from '../../dev/test-config.js';
import type { App } from '../../node-api/app.js';

export const KIND = 'bench';
export const benchMachine = counterMachine;
export const benchKind = defineKind({ name: KIND, machine: benchMachine, persistence: 'none' });
export const benchApp: App = { name: 'bench', kinds: [benchKind] };

/** Deployment prefix of the node under test; raw traffic uses roots outside it. */
export const PREFIX = 'bnch';
/** Raw pipeline: events to `rawp.<id>`, requests to `rawq.echo` (the floor) and `rawq.actor.<id>` (reference). */
export const RAW_TELL = 'rawp';
export const RAW_ECHO = 'rawq.echo';
export const RAW_ASK = 'rawq.actor';
/** Cumulative processed counts, published by receivers for end-to-end flow control (see sender-peer.ts). */
export const ackSubject = (who: 'ours' | 'raw') => `bctl.ack.${who}`;

export const EVENT = { type: 'inc' } as const;
export const actorId = (i: number) => `a${i}`;

/** The same options as bus/codec.ts, so raw and ours pack the same way (no records, plain maps). */
export const rawPackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
export const rawUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A bare XState actor of the bench machine, as the baselines create them. */
export const bareActor = (): AnyActor => createActor(benchMachine).start();

/** Node config for a benchmark node: one worker owning every shard, no gateway, quiet logs. */
export function nodeConfig(bus: { kind: 'memory' } | { kind: 'nats'; url: string }, o: { hibernateAfterMs?: number } = {}): Config {
  return testConfig({
    prefix: PREFIX,
    node: { roles: ['worker'] },
    bus: { kind: bus.kind },
    ...(bus.kind === 'nats' ? { nats: { servers: [bus.url] } } : {}),
    // No passivation or hibernation during a run: every actor stays live, as the baseline's do (bench memory
    // measures hibernated actors on purpose).
    actors: { passivateAfterMs: 3_600_000, hibernateAfterMs: o.hibernateAfterMs ?? 0 },
    log: { level: 'warn' },
  });
}

/** Rate and CPU of one measured window, as every peer reports it. */
export interface WindowReport {
  count: number;
  seconds: number;
  cpu: number;
}
