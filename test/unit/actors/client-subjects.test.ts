/**
 * ActorClient's subject cache (client.ts, SUBJECT_CACHE): a hot set is kept and starts over when full; a scan over
 * more actors than fit keeps what it has and builds the others without keeping them, then starts over. Either way
 * every subject is the one `subjects.actor` builds.
 */
import { describe, expect, it } from 'vitest';
import { ActorClient, SUBJECT_CACHE } from '../../../actors/runtime/client.js';
import { MemoryBroker } from '../../../bus/memory-bus.js';
import { shardOf, subjects } from '../../../bus/subjects.js';

const CACHE = SUBJECT_CACHE;
const SHARDS = 16;

interface Internals {
  subjectCount: number;
  subjectScan: number;
}

function client(): { c: ActorClient; inside: Internals } {
  const c = new ActorClient(new MemoryBroker().connect({ prefix: 't' }), { shards: SHARDS, askTimeoutMs: 1000 });
  return { c, inside: c as unknown as Internals };
}

const expected = (id: string) => subjects.actor('k', shardOf(id, SHARDS), id);

describe('ActorClient subject cache', () => {
  it('a scan (mostly misses) keeps the cache, builds the rest unkept, and starts over after as many misses', () => {
    const { c, inside } = client();
    for (let i = 0; i < CACHE; i++) expect(c.subjectOf({ kind: 'k', id: `a${i}` })).toBe(expected(`a${i}`));
    expect(inside.subjectCount).toBe(CACHE);
    // Full, and every lookup so far missed: the next miss starts a scan instead of starting over.
    expect(c.subjectOf({ kind: 'k', id: 'b0' })).toBe(expected('b0'));
    expect(inside.subjectScan).toBe(CACHE);
    expect(inside.subjectCount).toBe(CACHE);
    for (let i = 1; i < CACHE - 1; i++) expect(c.subjectOf({ kind: 'k', id: `b${i}` })).toBe(expected(`b${i}`));
    // Kept entries still answer during the scan, and do not count as misses.
    expect(c.subjectOf({ kind: 'k', id: 'a7' })).toBe(expected('a7'));
    expect(inside.subjectScan).toBe(2);
    expect(c.subjectOf({ kind: 'k', id: 'b-last' })).toBe(expected('b-last'));
    expect(inside.subjectScan).toBe(1);
    // The scan's last miss starts the cache over; the next miss is kept again.
    expect(c.subjectOf({ kind: 'k', id: 'b-end' })).toBe(expected('b-end'));
    expect(inside.subjectScan).toBe(0);
    expect(inside.subjectCount).toBe(0);
    expect(c.subjectOf({ kind: 'k', id: 'c0' })).toBe(expected('c0'));
    expect(inside.subjectCount).toBe(1);
  });

  it('a hot set (as many hits as misses) starts over when full, as before', () => {
    const { c, inside } = client();
    for (let i = 0; i < CACHE; i++) {
      c.subjectOf({ kind: 'k', id: `a${i}` });
      c.subjectOf({ kind: 'k', id: `a${i}` });
    }
    expect(c.subjectOf({ kind: 'k', id: 'new' })).toBe(expected('new'));
    expect(inside.subjectScan).toBe(0);
    expect(inside.subjectCount).toBe(1);
  });
});
