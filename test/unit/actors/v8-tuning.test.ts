/**
 * actors/runtime/v8-tuning.ts: an ActorHost turns V8's allocation-site pretenuring off for its process (it tenured
 * XState's transition sites under a node's queued tells: ~1.4 µs of a ~8.6 µs embedded tell), unless told not to.
 * Checked in child processes on the compiled runtime: V8 prints its tenure decisions with --trace-pretenuring, and a
 * workload that keeps every object of one literal site gets that site tenured, unless the flag took effect.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ActorHost } from '../../../actors/runtime/host.js';
import { tuneV8ForTurns, v8Tuned } from '../../../actors/runtime/v8-tuning.js';
import { MemoryBroker } from '../../../bus/memory-bus.js';
import { TEST_LIMITS } from '../../support/hosts.js';
import { counterKind } from '../../support/test-kinds.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DIST = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;

/** Tenure decisions V8 reports for a workload keeping 3 M objects of one literal site, after `setup` ran. */
function tenureDecisions(setup: string): number {
  const script = `
    ${setup}
    const keep = [];
    const make = (i) => ({ a: i, b: null });
    for (let i = 0; i < 3_000_000; i++) keep.push(make(i));
    if (keep.length !== 3_000_000) process.exit(3);
  `;
  const out = execFileSync(process.execPath, ['--trace-pretenuring', '--trace-pretenuring-statistics', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return out.split('\n').filter((l) => l.includes('=> tenure')).length;
}

describe('V8 tuning for turns', () => {
  it('the probe sees V8 tenure a site when nothing is set (so the next checks can fail)', () => {
    expect(tenureDecisions('')).toBeGreaterThan(0);
  });

  it('tuneV8ForTurns turns pretenuring off, at run time', () => {
    expect(tenureDecisions(`const { tuneV8ForTurns } = await import(${JSON.stringify(DIST('actors/runtime/v8-tuning.js'))}); tuneV8ForTurns();`)).toBe(0);
  });

  it('an ActorHost applies it once per process; v8Tuning: false leaves V8 alone', () => {
    const host = (v8Tuning?: boolean) => `
      const { ActorHost } = await import(${JSON.stringify(DIST('actors/runtime/host.js'))});
      const { MemoryBroker } = await import(${JSON.stringify(DIST('bus/memory-bus.js'))});
      new ActorHost({ nodeId: 'n', bus: new MemoryBroker().connect({ prefix: 't' }), kinds: [], limits: ${JSON.stringify(TEST_LIMITS)}${v8Tuning === undefined ? '' : `, v8Tuning: ${v8Tuning}`} });`;
    expect(tenureDecisions(host())).toBe(0);
    expect(tenureDecisions(host(false))).toBeGreaterThan(0);
  });

  it('in this process: the first host applies it, later calls do nothing', () => {
    new ActorHost({ nodeId: 'n', bus: new MemoryBroker().connect({ prefix: 't' }), kinds: [counterKind], limits: { ...TEST_LIMITS, shards: 4 } });
    expect(v8Tuned()).toBe(true);
    expect(tuneV8ForTurns()).toBe(false);
  });
});
