/**
 * The thread bus's port outbox (bus/thread/messages.ts PortOutbox, framesOf): frames of one turn leave in one post,
 * in order; a lone frame travels as itself; MAX_BATCH frames leave at once; a receiver gets the frames back in order
 * and refuses a malformed batch.
 */
import { describe, expect, it } from 'vitest';
import { framesOf, MAX_BATCH, PortOutbox } from '../../bus/thread/messages.js';

function port() {
  const posts: Array<{ m: unknown; transfer?: ArrayBuffer[] }> = [];
  return { posts, postMessage: (m: unknown, transfer?: ArrayBuffer[]) => void posts.push({ m, transfer }) };
}
const turn = () => new Promise<void>((r) => queueMicrotask(r));

describe('PortOutbox', () => {
  it('posts one turn of frames once, in order, with their payloads transferred together', async () => {
    const p = port();
    const out = new PortOutbox(p, () => undefined);
    const a = new Uint8Array(4).buffer;
    const b = new Uint8Array(4).buffer;
    out.post({ op: 'pub', s: 'x', n: 1 }, a);
    out.post({ op: 'flush', id: 2 });
    out.post({ op: 'pub', s: 'y', n: 3 }, b);
    expect(p.posts).toHaveLength(0);
    await turn();
    expect(p.posts).toHaveLength(1);
    expect(p.posts[0]!.transfer).toEqual([a, b]);
    expect(framesOf(p.posts[0]!.m)).toEqual([{ op: 'pub', s: 'x', n: 1 }, { op: 'flush', id: 2 }, { op: 'pub', s: 'y', n: 3 }]);
    out.post({ op: 'flush', id: 4 });
    await turn();
    expect(p.posts[1]!.m).toEqual({ op: 'flush', id: 4 }); // a lone frame as itself
  });

  it(`posts at once at ${MAX_BATCH} frames, and flush() posts what is held`, () => {
    const p = port();
    const out = new PortOutbox(p, () => undefined);
    for (let i = 0; i < MAX_BATCH; i++) out.post({ op: 'flush', id: i });
    expect(p.posts).toHaveLength(1);
    out.post({ op: 'flush', id: -1 });
    out.flush();
    expect(p.posts).toHaveLength(2);
  });

  it('reports a post that throws (a closed port) and goes on', async () => {
    const errors: unknown[] = [];
    const out = new PortOutbox({ postMessage: () => { throw new Error('closed'); } }, (e) => errors.push(e));
    out.post({ op: 'flush', id: 1 });
    await turn();
    expect(errors).toHaveLength(1);
  });

  it('framesOf: a message is its own frame; a batch is checked (an array of 1-MAX_BATCH frames, none a batch)', () => {
    expect(framesOf({ op: 'pub' })).toEqual([{ op: 'pub' }]);
    expect(framesOf(42)).toEqual([42]);
    expect(framesOf({ op: 'batch', b: [] })).toBeUndefined();
    expect(framesOf({ op: 'batch', b: 'x' })).toBeUndefined();
    expect(framesOf({ op: 'batch', b: [{ op: 'batch', b: [{ op: 'pub' }] }] })).toBeUndefined();
    expect(framesOf({ op: 'batch', b: Array.from({ length: MAX_BATCH + 1 }, () => ({ op: 'pub' })) })).toBeUndefined();
  });
});
