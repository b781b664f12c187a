/**
 * NativeConnectionRules.receive has a fast path for req and notify on an open connection; it must give exactly what
 * the pure `transition` gives (state and actions), whatever the frames and times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNativeConnectionRules, defaultConnectionConfig, transition, type Frame } from '../../protocol/native/index.js';

const config = { ...defaultConnectionConfig, heartbeatMs: 1000 };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('req' as const), id: fc.nat(), route: fc.constantFrom('a', 'chat.send'), body: fc.jsonValue() }),
  fc.record({ type: fc.constant('notify' as const), route: fc.constantFrom('a', 'lobby.relay'), body: fc.jsonValue() }),
  fc.constant<Frame>({ type: 'ping' }),
  fc.constant<Frame>({ type: 'pong' }),
);

describe('native rules fast path', () => {
  it('agrees with transition() for req and notify frames at any time, open or not', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(frame, fc.nat(3000)), { maxLength: 12 }), (open, steps) => {
        const rules = createNativeConnectionRules(0, config);
        let state = rules.state;
        if (open) {
          rules.receive({ type: 'hello', v: 1 }, 0);
          rules.handle({ type: 'accept', session: 's', ticket: 't', resumed: false }, 1);
          state = transition(transition(state, { type: 'frame', frame: { type: 'hello', v: 1 } }, 0, config).state, { type: 'accept', session: 's', ticket: 't', resumed: false }, 1, config).state;
        }
        let now = 1;
        for (const [f, dt] of steps) {
          now += dt;
          const expected = transition(state, { type: 'frame', frame: f }, now, config);
          const actions = rules.receive(f, now);
          expect(actions).toEqual(expected.actions);
          expect(rules.state).toEqual(expected.state);
          state = expected.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});
