/**
 * The Pomelo connection rules (protocol/pomelo/connection-rules.ts): handshake, heartbeats, dispatch, kicks and the
 * close linger, with time from a ManualClock passed in as `now`. Response and push bytes are the encoders the
 * gateway's Pomelo adapter writes with.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { ClientErrorCode, CloseCode } from '../../protocol/error-codes.js';
import {
  createPomeloConnectionRules,
  createRouteDict,
  encodeDataPackage,
  encodeHandshakeOk,
  encodeKick,
  NO_DEADLINE,
  type PomeloAction,
  type PomeloPackage,
  type PomeloRulesOptions,
} from '../../protocol/pomelo/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): string => hex(Buffer.from(s));
const empty = new Uint8Array(0);

/** The rules with `now` read from `clock` on every call, as the gateway's driver does. */
function rulesOn(options: PomeloRulesOptions & { clock: ManualClock }) {
  const { clock } = options;
  const r = createPomeloConnectionRules(clock.now(), options);
  return {
    get state() {
      return r.state;
    },
    get phase() {
      return r.phase;
    },
    get deadline() {
      return r.deadline;
    },
    receive: (p: PomeloPackage) => r.receive(p, clock.now()),
    tick: () => r.tick(clock.now()),
    kick: (reason: string) => r.handle({ type: 'close', code: CloseCode.Kicked, reason }, clock.now()),
    closed: () => r.handle({ type: 'transport-closed' }, clock.now()),
    bad: (code: string, message: string) => r.handle({ type: 'bad-frame', error: { code, message } }, clock.now()),
    /** The gateway accepted the handshake's credential (or its absence). */
    accept: () => r.handle({ type: 'accept', session: 's', ticket: 't', resumed: false }, clock.now()),
    reject: (message: string) => r.handle({ type: 'reject', code: ClientErrorCode.Unauthorized, message }, clock.now()),
  };
}

describe('Pomelo connection rules', () => {
  const dict = createRouteDict(['chat.chatHandler.send', 'onChat']);
  const hello = { type: 'handshake' as const, body: Buffer.from('{"sys":{"type":"js-websocket","version":"0.0.1"}}') };
  const ack = { type: 'handshake-ack' as const, body: empty };
  const beat = { type: 'heartbeat' as const, body: empty };
  const data = (wire: string) => ({ type: 'data' as const, body: bytes(wire) });
  /** Actions with sent bytes shown as hex, so expectations read like the wire. */
  const show = (actions: PomeloAction[]) => actions.map((a) => (a.type === 'send' ? `send ${hex(a.frame)}` : a));
  const kickHex = (reason: string) => `send ${hex(encodeKick(reason))}`;

  function working(clock = new ManualClock()) {
    const s = rulesOn({ clock, heartbeatSeconds: 3, dict });
    s.receive(hello);
    s.accept();
    s.receive(ack);
    return { s, clock };
  }

  it('handshake, ack, then an unprompted heartbeat so the JS client starts its own', () => {
    const clock = new ManualClock();
    const s = rulesOn({ clock, heartbeatSeconds: 3, dict, user: { hi: 1 } });
    expect(s.state).toBe('awaiting-handshake');
    const first = s.receive(hello);
    expect(first[0]).toEqual({ type: 'handshake', request: { sys: { type: 'js-websocket', version: '0.0.1' }, user: {} } });
    // The response waits for the gateway's check of the credential (none here).
    expect(first.slice(1)).toEqual([{ type: 'authenticate', ticket: undefined, credential: undefined }]);
    expect(s.state).toBe('awaiting-auth');
    expect(show(s.receive(beat))).toEqual([]);
    expect(show(s.accept())).toEqual([`send ${hex(encodeHandshakeOk({ heartbeatSeconds: 3, dict, user: { hi: 1 } }))}`]);
    expect(s.state).toBe('awaiting-ack');
    expect(show(s.receive(beat))).toEqual([]);
    expect(show(s.receive(ack))).toEqual([{ type: 'open', anonymous: false }, 'send 03 00 00 00']);
    expect(s.state).toBe('working');
    expect(show(s.receive(beat))).toEqual(['send 03 00 00 00']);
  });

  it('delivers requests and notifies (expanding dictionary codes); responses and pushes use the dictionary', () => {
    const { s } = working();
    expect(s.receive(data('00 07 01 61 7b 7d'))).toEqual([{ type: 'dispatch', id: 7, route: 'a', body: bytes('7b7d') }]);
    expect(s.receive(data('03 00 01'))).toEqual([
      { type: 'dispatch', id: undefined, route: 'chat.chatHandler.send', body: empty },
    ]);
    expect(s.phase).toBe('open');
    const out = (m: Parameters<typeof encodeDataPackage>[0]) => hex(encodeDataPackage(m, { dict }));
    expect(out({ type: 'response', id: 7, body: bytes('7b7d') })).toBe('04 00 00 04 04 07 7b 7d');
    expect(out({ type: 'push', route: 'onChat', body: bytes('7b7d') })).toBe('04 00 00 05 07 00 02 7b 7d');
    expect(out({ type: 'push', route: 'onAdd', body: empty })).toBe(`04 00 00 07 06 05 ${ascii('onAdd')}`);
  });

  it('closes a client silent for twice the heartbeat interval; any package counts as sound', () => {
    const { s, clock } = working();
    expect(s.deadline).toBe(clock.now() + 6000);
    clock.advance(5999);
    expect(s.tick()).toEqual([]);
    s.receive(beat);
    clock.advance(5999);
    s.receive(data('02 01 61'));
    clock.advance(5999);
    expect(s.tick()).toEqual([]);
    clock.advance(1);
    const reason = 'client silent for 6000 ms';
    expect(show(s.tick())).toEqual([
      kickHex(reason),
      { type: 'close', code: CloseCode.HeartbeatTimeout, cause: 'HEARTBEAT_TIMEOUT', reason },
    ]);
    // Closing lingers for the close timeout (2 s by default), then the transport is destroyed.
    expect([s.state, s.deadline]).toEqual(['closing', clock.now() + 2000]);
    clock.advance(2000);
    expect(s.tick()).toEqual([{ type: 'destroy' }]);
    expect(s.closed()).toEqual([{ type: 'ended', resumable: false }]);
    expect([s.state, s.deadline]).toEqual(['closed', NO_DEADLINE]);
  });

  it('closes a connection that does not finish the handshake in time', () => {
    const clock = new ManualClock();
    const s = rulesOn({ clock, heartbeatSeconds: 3, handshakeTimeoutMs: 500 });
    s.receive(hello);
    expect(s.deadline).toBe(clock.now() + 500);
    clock.advance(499);
    expect(s.tick()).toEqual([]);
    clock.advance(1);
    expect(s.tick().at(-1)).toMatchObject({ type: 'close', code: CloseCode.HandshakeTimeout, cause: 'HANDSHAKE_TIMEOUT' });
  });

  it('passes the handshake user.token as the credential; a refused one is kicked and closed with 4100', () => {
    const s = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    const withToken = { type: 'handshake' as const, body: Buffer.from('{"sys":{"type":"js-websocket"},"user":{"token":"t.k.n"}}') };
    expect(s.receive(withToken).at(-1)).toEqual({ type: 'authenticate', ticket: undefined, credential: 't.k.n' });
    const reason = 'UNAUTHORIZED: token refused: ERR_JWT_EXPIRED';
    expect(show(s.reject('token refused: ERR_JWT_EXPIRED'))).toEqual([
      kickHex(reason),
      { type: 'close', code: CloseCode.Unauthorized, cause: 'UNAUTHORIZED', reason },
    ]);
    const bad = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    const numeric = { type: 'handshake' as const, body: Buffer.from('{"sys":{"type":"js-websocket"},"user":{"token":7}}') };
    expect(bad.receive(numeric).at(-1)).toMatchObject({ type: 'close', cause: 'BAD_HANDSHAKE' });
  });

  it('treats data before the handshake-ack as an error', () => {
    const s = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    s.receive(hello);
    s.accept();
    const reason = 'data package while awaiting-ack';
    expect(show(s.receive(data('02 01 61')))).toEqual([
      kickHex(reason),
      { type: 'close', code: CloseCode.ProtocolViolation, cause: 'UNEXPECTED_PACKAGE', reason },
    ]);
    expect(s.receive(ack)).toEqual([]);
  });

  it.each([
    ['awaiting-handshake', [], ack],
    ['awaiting-handshake', [], data('02 01 61')],
    ['awaiting-ack', [hello], hello],
    ['working', [hello, ack], hello],
    ['working', [hello, ack], ack],
    ['working', [hello, ack], { type: 'kick' as const, body: empty }],
  ])('refuses out-of-order packages (%s)', (_state, before, pkg) => {
    const s = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    for (const p of before) {
      s.receive(p);
      if (p === hello) s.accept(); // the gateway admitted the credential-less handshake
    }
    expect(s.receive(pkg).at(-1)).toMatchObject({ type: 'close', cause: 'UNEXPECTED_PACKAGE' });
  });

  it('answers a bad handshake with code 500 and a refused client with 501, then closes', () => {
    const s = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    expect(show(s.receive({ type: 'handshake', body: Buffer.from('{}') }))).toEqual([
      `send 01 00 00 0c ${ascii('{"code":500}')}`,
      { type: 'close', code: CloseCode.BadFrame, cause: 'BAD_HANDSHAKE', reason: 'handshake must be an object with a `sys` object' },
    ]);
    const old = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3, checkClient: (sys) => sys.version !== '0.0.1' });
    expect(show(old.receive(hello))).toEqual([
      `send 01 00 00 0c ${ascii('{"code":501}')}`,
      { type: 'close', code: CloseCode.UnsupportedVersion, cause: 'CLIENT_REFUSED', reason: 'client js-websocket 0.0.1 refused' },
    ]);
  });

  it('closes on bad messages: undecodable, unknown route code, or a type only servers send', () => {
    for (const [wire, code] of [
      ['12 00', 'BAD_MESSAGE'],
      ['03 00 09', 'UNKNOWN_ROUTE_CODE'],
      ['04 01 7b 7d', 'BAD_MESSAGE'],
      ['06 01 61', 'BAD_MESSAGE'],
    ] as const) {
      const { s } = working();
      expect(s.receive(data(wire)).at(-1)).toMatchObject({ type: 'close', code: CloseCode.BadFrame, cause: code });
    }
  });

  it('kicks on lost framing: BadFrame, or FrameTooLarge for a message the transport refused for its size', () => {
    const { s } = working();
    expect(show(s.bad('PACKAGE_TOO_LARGE', 'declared too much'))).toEqual([
      kickHex('declared too much'),
      { type: 'close', code: CloseCode.BadFrame, cause: 'PACKAGE_TOO_LARGE', reason: 'declared too much' },
    ]);
    const big = working().s.bad(ClientErrorCode.FrameTooLarge, 'package larger than 10 bytes');
    expect(big.at(-1)).toMatchObject({ type: 'close', code: CloseCode.FrameTooLarge });
  });

  it('kicks with a reason, and does nothing once closing or closed', () => {
    const { s } = working();
    expect(show(s.kick('duplicate login'))).toEqual([
      kickHex('duplicate login'),
      { type: 'close', code: CloseCode.Kicked, cause: 'KICKED', reason: 'duplicate login' },
    ]);
    // The gateway writes responses and pushes only while the phase is open.
    expect([s.kick('again'), s.phase, s.receive(beat), s.tick()]).toEqual([[], 'closing', [], []]);
    const gone = working().s;
    gone.closed();
    expect([gone.state, gone.phase, gone.kick('late'), gone.closed()]).toEqual(['closed', 'closed', [], []]);
  });

  it('sends nothing to a client that has not finished the handshake', () => {
    const s = rulesOn({ clock: new ManualClock(), heartbeatSeconds: 3 });
    expect(s.phase).toBe('handshaking');
    expect(() => rulesOn({ clock: new ManualClock(), heartbeatSeconds: 0 })).toThrow(RangeError);
  });
});
