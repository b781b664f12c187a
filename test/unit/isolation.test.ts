/**
 * The isolation check (cluster/isolation.ts): a node hearing only itself moves its connections only when no other
 * node answers a ping, and a round where every ping found no responder (the others reconnecting after their server
 * died, or our server cut off: the same answer at first) is tried again a heartbeat later before it moves.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { NoRespondersError, TimeoutError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { IsolationCheck } from '../../cluster/isolation.js';

type Answer = 'ok' | 'none' | 'late';

function setup(answers: (round: number, node: string) => Answer) {
  const clock = new ManualClock();
  let moves = 0;
  const pings: Array<{ node: string; at: number }> = [];
  let round = 0;
  let inRound = 0;
  const others = ['b', 'c'];
  const check = new IsolationCheck({
    clock,
    log: silentLogger,
    others: () => others,
    ping: async (node) => {
      pings.push({ node, at: clock.now() });
      if (inRound++ % others.length === 0) round++;
      const a = answers(round, node);
      if (a === 'ok') return { pong: true };
      if (a === 'none') throw new NoRespondersError(`sys.ctl.${node}`);
      throw new TimeoutError(`sys.ctl.${node}`);
    },
    moveAll: () => moves++,
    heartbeatMs: 250,
    cooldownMs: 3000,
  });
  /** Runs a suspicion to its end, moving the clock for the second round's wait. */
  const suspect = async () => {
    const p = check.suspect();
    for (let i = 0; i < 10; i++) {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      clock.advance(50);
    }
    await p;
  };
  return { clock, suspect, moves: () => moves, pings, check };
}

describe('isolation check', () => {
  it('stays when one other node answers the first ping', async () => {
    const s = setup((_, n) => (n === 'c' ? 'ok' : 'none'));
    await s.suspect();
    expect(s.moves()).toBe(0);
    expect(s.pings).toHaveLength(2);
  });

  it('others with no responders, then answering a heartbeat later (their server died, they reconnected): stays', async () => {
    const s = setup((round) => (round === 1 ? 'none' : 'ok'));
    const start = s.clock.now();
    await s.suspect();
    expect(s.moves()).toBe(0);
    expect(s.pings).toHaveLength(4);
    // The second round waits a heartbeat from the first: not at once (the others would not be back yet).
    expect(s.pings[2]!.at - start).toBeGreaterThanOrEqual(250);
  });

  it('no responders in both rounds (a cut-off server): moves, once', async () => {
    const s = setup(() => 'none');
    await s.suspect();
    expect(s.moves()).toBe(1);
    expect(s.pings).toHaveLength(4);
  });

  it('pings that time out (a heartbeat already spent): moves without a second round', async () => {
    const s = setup(() => 'late');
    await s.suspect();
    expect(s.moves()).toBe(1);
    expect(s.pings).toHaveLength(2);
  });

  it('no second move within the cooldown, another after it', async () => {
    const s = setup(() => 'late');
    await s.suspect();
    await s.suspect();
    expect(s.moves()).toBe(1);
    s.clock.advance(3000);
    await s.suspect();
    expect(s.moves()).toBe(2);
  });

  it('one check at a time: a suspicion while one runs adds no pings', async () => {
    const s = setup(() => 'none');
    const first = s.check.suspect();
    await s.check.suspect();
    expect(s.pings).toHaveLength(2);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      s.clock.advance(50);
    }
    await first;
    expect(s.moves()).toBe(1);
  });
});
