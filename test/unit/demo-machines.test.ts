/**
 * Machines are pure: their transitions are tested without running an actor (xstate's `initialTransition` /
 * `transition` return the next snapshot and the actions, including emitted effects).
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { counterMachine } from '../../actors/demo/counter.machine.js';
import { ledgerMachine } from '../../actors/demo/ledger.machine.js';

function emitted(actions: Array<{ type: string; params?: unknown }>): unknown[] {
  // An emit action carries its event as params once resolved.
  return actions.filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event?: unknown })?.event ?? a.params);
}

describe('demo machines (pure transitions)', () => {
  it('counter: inc adds, replies with the new count; reset zeroes', () => {
    let [s] = initialTransition(counterMachine);
    let actions;
    [s, actions] = transition(counterMachine, s, { type: 'inc', by: 5 });
    expect(s.context.count).toBe(5);
    expect(emitted(actions as never)).toEqual([{ type: 'reply', body: 5 }]);
    [s] = transition(counterMachine, s, { type: 'inc' });
    expect(s.context.count).toBe(6);
    [s, actions] = transition(counterMachine, s, { type: 'reset' });
    expect(s.context.count).toBe(0);
    expect(emitted(actions as never)).toEqual([{ type: 'reply', body: 0 }]);
  });

  it('ledger: records (from, n) in order without touching earlier snapshots', () => {
    const [s0] = initialTransition(ledgerMachine);
    const [s1] = transition(ledgerMachine, s0, { type: 'inc', from: 'a', n: 0 });
    const [s2] = transition(ledgerMachine, s1, { type: 'inc', from: 'b', n: 0 });
    const [s3, actions] = transition(ledgerMachine, s2, { type: 'get' });
    expect(s3.context.log).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(s1.context.log).toEqual([['a', 0]]); // immutable: a crash restart reuses s1 intact
    expect(emitted(actions as never)).toEqual([{ type: 'reply', body: { count: 2, log: [['a', 0], ['b', 0]] } }]);
  });
});
