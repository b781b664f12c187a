/**
 * A request on a native connection reads the clock once (issue 16: a read is a few hundred ns on a loaded VM): the
 * reading the rules applied the frame at also serves the rate limits and the request's deadline. The deadline still
 * runs from that instant: a route that never answers times out requestTimeoutMs after its frame arrived.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { DEFAULTS } from '../../config/defaults.js';
import { Connection } from '../../gateway/connection.js';
import { echoGatewayServices } from '../../dev/echo-gateway.js';
import { createNativeHandler } from '../../gateway/native-adapter.js';
import { gatewaySettings } from '../../gateway/settings.js';
import { KeepTransport } from '../support/keep-transport.js';
import { encodeFrame } from '../../protocol/native/index.js';

function setup() {
  const clock = new ManualClock();
  let reads = 0;
  const now = clock.now.bind(clock);
  clock.now = () => {
    reads++;
    return now();
  };
  const settings = gatewaySettings(DEFAULTS);
  const services = echoGatewayServices({ nodeId: 'n', clock, settings });
  const t = new KeepTransport();
  const c = new Connection(services, t, 'native');
  c.handler = createNativeHandler(c);
  return { clock, t, c, settings, reads: () => reads };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('a native request and the clock', () => {
  it('reads the clock once per request, and answers', async () => {
    const { t, c, reads } = setup();
    c.handler.receive(encodeFrame({ type: 'hello', v: 1, client: 't' }), true);
    await settle();
    expect(t.got.at(-1)?.type).toBe('welcome');
    const before = reads();
    c.handler.receive(encodeFrame({ type: 'req', id: 1, route: 'echo', body: { a: 1 } }), true);
    expect(reads() - before).toBe(1);
    await settle();
    expect(t.got.at(-1)).toEqual({ type: 'res', id: 1, body: { a: 1 } });
  });

  it('times a request out requestTimeoutMs after its frame arrived', async () => {
    const { clock, t, c, settings } = setup();
    c.handler.receive(encodeFrame({ type: 'hello', v: 1, client: 't' }), true);
    await settle();
    clock.advance(5);
    c.handler.receive(encodeFrame({ type: 'req', id: 2, route: 'hang', body: null }), true);
    clock.advance(settings.requestTimeoutMs - 1);
    await settle();
    expect(t.got.at(-1)?.type).toBe('welcome');
    clock.advance(1);
    await settle();
    expect(t.got.at(-1)).toMatchObject({ type: 'res', id: 2, error: { code: 'TIMEOUT' } });
  });
});
