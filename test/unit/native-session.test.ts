/**
 * The native connection rules: the pure `transition` table state by state, then the rules run by the gateway's
 * RulesDriver for the heartbeat, handshake and close-linger deadlines, all on a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { RulesDriver } from '../../gateway/rules-driver.js';
import {
  ClientErrorCode,
  CloseCode,
  ProtocolError,
  createNativeConnectionRules,
  defaultConnectionConfig,
  initialConnectionState,
  transition,
  type ConnectionConfig,
  type ConnectionInput,
  type ConnectionState,
  type Frame,
  type NativeAction,
} from '../../protocol/native/index.js';

const T0 = 1_000_000;
const H = defaultConnectionConfig.heartbeatMs;
const hello: Frame = { type: 'hello', v: 1, ticket: 'tk-old' };
const req: Frame = { type: 'req', id: 7, route: 'chat.enter', body: { room: 'lobby' } };
const frame = (f: Frame): ConnectionInput => ({ type: 'frame', frame: f });
const accept = { type: 'accept', session: 's1', ticket: 'tk-new', resumed: true } as const;

/** Applies inputs in order at time `now`, returning the last state and every action. */
function run(inputs: ConnectionInput[], from: ConnectionState = initialConnectionState(T0), now = T0) {
  let state = from;
  const actions: NativeAction[] = [];
  for (const i of inputs) {
    const t = transition(state, i, now);
    state = t.state;
    actions.push(...t.actions);
  }
  return { state, actions };
}

const opened = () => run([frame(hello), accept]).state;
const errorThenClose = (code: string, close: number, id?: number): NativeAction[] => [
  { type: 'send', frame: { type: 'error', code, message: expect.any(String), ...(id === undefined ? {} : { id }) } },
  { type: 'close', code: close, reason: expect.any(String) } as NativeAction,
] as NativeAction[];

describe('connection rules: handshaking', () => {
  it('hello asks the gateway to authenticate, accept sends welcome and opens', () => {
    const a = run([frame(hello)]);
    expect(a.actions).toEqual([{ type: 'authenticate', ticket: hello.ticket }]);
    expect(a.state.phase).toBe('handshaking');
    const b = run([accept], a.state, T0 + 5);
    expect(b.actions).toEqual([
      {
        type: 'send',
        frame: {
          type: 'welcome',
          v: 1,
          session: 's1',
          ticket: 'tk-new',
          heartbeatMs: H,
          maxFrameBytes: 65536,
          resumed: true,
        },
      },
      { type: 'open', anonymous: false },
    ]);
    expect(b.state).toMatchObject({ phase: 'open', resumable: true, lastFrameAt: T0 + 5, deadline: T0 + 5 + 2 * H });
  });

  it('req before hello: NOT_READY with the id, then close', () => {
    const r = run([frame(req)]);
    expect(r.actions).toEqual(errorThenClose('NOT_READY', CloseCode.ProtocolViolation, 7));
    expect(r.state.phase).toBe('closing');
  });

  it('req after hello but before welcome: NOT_READY too (clients wait for welcome)', () => {
    const r = run([frame(hello), frame(req)]);
    expect(r.actions.slice(1)).toEqual(errorThenClose('NOT_READY', CloseCode.ProtocolViolation, 7));
  });

  it('ping as the first frame is NOT_READY; after hello it is answered', () => {
    expect(run([frame({ type: 'ping' })]).actions).toEqual(errorThenClose('NOT_READY', CloseCode.ProtocolViolation));
    expect(run([frame(hello), frame({ type: 'ping' })]).actions[1]).toEqual({ type: 'send', frame: { type: 'pong' } });
  });

  it('an unsupported version gets UNSUPPORTED_VERSION naming the supported ones, then close', () => {
    const r = run([frame({ type: 'hello', v: 2 })]);
    expect(r.actions).toEqual(errorThenClose('UNSUPPORTED_VERSION', CloseCode.UnsupportedVersion));
    expect(r.actions[0]).toMatchObject({ frame: { message: 'protocol version 2 not supported (supported: 1)' } });
  });

  it('reject sends the given error and closes with its close code; the session is not resumable', () => {
    const r = run([frame(hello), { type: 'reject', code: ClientErrorCode.Unauthorized }]);
    expect(r.actions.slice(1)).toEqual(errorThenClose('UNAUTHORIZED', CloseCode.Unauthorized));
    expect(r.actions[1]).toMatchObject({ frame: { message: 'not authorized' } });
    expect(run([{ type: 'transport-closed' }], r.state).actions).toEqual([{ type: 'ended', resumable: false }]);
  });

  it('accept or reject without a pending hello is ignored (a stale answer)', () => {
    expect(run([accept]).actions).toEqual([]);
    expect(run([accept]).state.phase).toBe('handshaking');
    const closing = run([frame(req)]).state;
    expect(run([accept], closing).actions).toEqual([]);
  });

  it('server-only frames from the client are UNEXPECTED_FRAME and close', () => {
    const r = run([frame({ type: 'push', route: 'a', body: null })]);
    expect(r.actions).toEqual(errorThenClose('UNEXPECTED_FRAME', CloseCode.ProtocolViolation));
  });
});

describe('connection rules: open', () => {
  it('dispatches requests, answers pings, ignores pongs, and every frame moves the heartbeat deadline', () => {
    const s = opened();
    const r1 = transition(s, frame(req), T0 + 100);
    expect(r1.actions).toEqual([{ type: 'dispatch', id: 7, route: 'chat.enter', body: { room: 'lobby' } }]);
    expect(r1.state.deadline).toBe(T0 + 100 + 2 * H);
    const r2 = transition(r1.state, frame({ type: 'ping' }), T0 + 200);
    expect(r2.actions).toEqual([{ type: 'send', frame: { type: 'pong' } }]);
    const r3 = transition(r2.state, frame({ type: 'pong' }), T0 + 300);
    expect(r3.actions).toEqual([]);
    expect(r3.state).toMatchObject({ phase: 'open', lastFrameAt: T0 + 300, deadline: T0 + 300 + 2 * H });
  });

  it('a second hello is an error but not fatal', () => {
    const r = run([frame(hello)], opened());
    const error = { type: 'error', code: 'UNEXPECTED_FRAME', message: 'hello already received' };
    expect(r.actions).toEqual([{ type: 'send', frame: error }]);
    expect(r.state.phase).toBe('open');
  });

  it('a bad frame sends its error (with the req id), closes with the matching code, session stays resumable', () => {
    const error = new ProtocolError(ClientErrorCode.FrameTooLarge, 'frame of 70000 bytes exceeds 65536', { id: 3 });
    const r = run([{ type: 'bad-frame', error }], opened());
    expect(r.actions).toEqual([
      { type: 'send', frame: { type: 'error', code: 'FRAME_TOO_LARGE', message: error.message, id: 3 } },
      { type: 'close', code: CloseCode.FrameTooLarge, reason: 'frame of 70000 bytes exceeds 65536' },
    ]);
    expect(r.state).toMatchObject({ phase: 'closing', resumable: true });
  });

  it('the client close frame is echoed with Normal and ends the session for good', () => {
    const r = run([frame({ type: 'close', code: 4000, reason: 'leaving' }), { type: 'transport-closed' }], opened());
    expect(r.actions).toEqual([
      { type: 'close', code: CloseCode.Normal, reason: 'bye' },
      { type: 'ended', resumable: false },
    ]);
  });

  it('a server close keeps the session resumable unless its code is terminal', () => {
    const gone: ConnectionInput = { type: 'transport-closed' };
    const drain = run([{ type: 'close', code: CloseCode.ShuttingDown, reason: 'draining' }, gone], opened());
    expect(drain.actions).toEqual([
      { type: 'close', code: CloseCode.ShuttingDown, reason: 'draining' },
      { type: 'ended', resumable: true },
    ]);
    const kick = run([{ type: 'close', code: CloseCode.Replaced, reason: 'logged in elsewhere' }, gone], opened());
    expect(kick.actions.at(-1)).toEqual({ type: 'ended', resumable: false });
  });

  it('a dropped transport ends a resumable session', () => {
    expect(run([{ type: 'transport-closed' }], opened()).actions).toEqual([{ type: 'ended', resumable: true }]);
  });

  it('long reasons are clipped to fit a WebSocket close frame', () => {
    const r = run([{ type: 'close', code: CloseCode.Kicked, reason: 'x'.repeat(500) }], opened());
    expect(r.actions[0]).toMatchObject({ type: 'close', reason: 'x'.repeat(39) + '…' });
  });
});

describe('connection rules: closing and closed', () => {
  it('closing ignores frames and server inputs; closed ignores everything', () => {
    const closing = run([{ type: 'close', code: CloseCode.ShuttingDown, reason: '' }], opened()).state;
    const late: ConnectionInput[] = [
      frame(req), frame({ type: 'ping' }), accept, { type: 'close', code: 4000, reason: '' },
    ];
    for (const i of late) {
      expect(transition(closing, i, T0).actions).toEqual([]);
    }
    const closed = run([{ type: 'transport-closed' }], closing).state;
    expect(closed.phase).toBe('closed');
    expect(run([{ type: 'transport-closed' }, frame(req), { type: 'tick' }], closed, T0 + 10 * H).actions).toEqual([]);
  });
});

describe('connection rules on a clock (RulesDriver)', () => {
  function setup(config: Partial<ConnectionConfig> = {}) {
    const clock = new ManualClock(T0);
    const log: NativeAction[] = [];
    const rules = createNativeConnectionRules(clock.now(), { ...defaultConnectionConfig, ...config });
    const driver = new RulesDriver(clock, rules, (a) => log.push(...a));
    return { clock, log, rules: driver };
  }

  it('closes with HEARTBEAT_TIMEOUT exactly 2 x heartbeatMs after the last frame, not a millisecond earlier', () => {
    const { clock, log, rules } = setup({ heartbeatMs: 1000 });
    rules.receive(hello);
    rules.handle(accept);
    clock.advance(1500);
    rules.receive({ type: 'ping' }); // deadline moves to T0 + 1500 + 2000
    clock.advance(1999);
    expect(rules.rules.phase).toBe('open');
    log.length = 0;
    clock.advance(1);
    expect(log).toEqual([
      { type: 'send', frame: { type: 'error', code: 'HEARTBEAT_TIMEOUT', message: 'no frame for 2000 ms' } },
      { type: 'close', code: CloseCode.HeartbeatTimeout, reason: 'no frame for 2000 ms' },
    ]);
    expect(rules.rules.phase).toBe('closing');
  });

  it('a client pinging every heartbeatMs is never dropped, and frames do not churn timers', () => {
    const { clock, rules } = setup({ heartbeatMs: 1000 });
    rules.receive(hello);
    rules.handle(accept);
    for (let i = 0; i < 50; i++) {
      clock.advance(1000);
      rules.receive({ type: 'ping' });
      expect(clock.pending).toBe(1);
    }
    expect(rules.rules.phase).toBe('open');
  });

  it('closes with TIMEOUT / HandshakeTimeout when no welcome was sent within handshakeTimeoutMs', () => {
    const { clock, log, rules } = setup({ handshakeTimeoutMs: 5000 });
    rules.receive(hello); // the gateway never answers
    clock.advance(4999);
    expect(log).toEqual([{ type: 'authenticate', ticket: hello.ticket }]);
    clock.advance(1);
    expect(log.slice(1)).toEqual([
      { type: 'send', frame: { type: 'error', code: 'TIMEOUT', message: 'no handshake within 5000 ms' } },
      { type: 'close', code: CloseCode.HandshakeTimeout, reason: 'no handshake within 5000 ms' },
    ]);
  });

  it('destroys the transport and ends when closing lingers past closeTimeoutMs', () => {
    const { clock, log, rules } = setup({ closeTimeoutMs: 300 });
    rules.receive(hello);
    rules.handle(accept);
    rules.handle({ type: 'close', code: CloseCode.ShuttingDown, reason: 'drain' });
    log.length = 0;
    clock.advance(299);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([{ type: 'destroy' }, { type: 'ended', resumable: true }]);
    expect(rules.rules.phase).toBe('closed');
    expect(clock.pending).toBe(0);
  });

  it('inputs given from inside execute are queued, not nested', () => {
    const clock = new ManualClock(T0);
    const order: string[] = [];
    const rules: RulesDriver<Frame, Frame> = new RulesDriver(clock, createNativeConnectionRules(T0), (actions) => {
      for (const a of actions) {
        order.push(a.type);
        // A transport that reports closed synchronously while being closed.
        if (a.type === 'close') rules.handle({ type: 'transport-closed' });
      }
    });
    rules.receive(req);
    expect(order).toEqual(['send', 'close', 'ended']);
    expect(clock.pending).toBe(0);
  });

  it('dispose stops the timer', () => {
    const { clock, rules } = setup();
    expect(clock.pending).toBe(1);
    rules.dispose();
    expect(clock.pending).toBe(0);
  });
});
