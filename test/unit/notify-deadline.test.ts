/**
 * A notify holds one of its address's in-flight slots (gateway.maxInFlightPerAddress) while its route runs, like a
 * request; nobody waits for its answer, but a route that never settles must not keep the slot for the connection's
 * life: the slot goes back at requestTimeoutMs, as a request's does, and a notify's failure is counted, not answered.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { DEFAULTS } from '../../config/defaults.js';
import { echoGatewayServices } from '../../dev/echo-gateway.js';
import { Admission } from '../../gateway/admission.js';
import { Connection } from '../../gateway/connection.js';
import { createNativeHandler } from '../../gateway/native-adapter.js';
import { buildRouteTable } from '../../gateway/routes.js';
import { gatewaySettings } from '../../gateway/settings.js';
import { KeepTransport } from '../support/keep-transport.js';
import { encodeFrame } from '../../protocol/native/index.js';

const ADDRESS = '10.0.0.7';

function setup() {
  const clock = new ManualClock();
  const settings = { ...gatewaySettings(DEFAULTS), connectionLimitExempt: [] as string[] };
  const admission = new Admission(settings, clock);
  const services = {
    ...echoGatewayServices({ nodeId: 'n', clock, settings }),
    admission,
    routes: buildRouteTable([
      {
        name: 't',
        kinds: [],
        gateway: {
          routes: {
            'hang.forever': () => new Promise<never>(() => undefined),
            'fail.now': async () => {
              throw Object.assign(new Error('no such thing'), { code: 'NOT_FOUND' });
            },
          },
        },
      },
    ]),
  };
  admission.admit(ADDRESS, clock.now());
  const t = new KeepTransport(ADDRESS);
  const c = new Connection(services, t, 'native');
  c.handler = createNativeHandler(c);
  return { clock, t, c, settings, services, admission };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('a notify and its in-flight slot', () => {
  it('a route that never settles gives its slot back at requestTimeoutMs, answering nothing', async () => {
    const { clock, t, c, settings, admission } = setup();
    c.handler.receive(encodeFrame({ type: 'hello', v: 1, client: 't' }), true);
    await settle();
    const answered = t.got.length;
    c.handler.receive(encodeFrame({ type: 'notify', route: 'hang.forever', body: {} }), true);
    c.handler.receive(encodeFrame({ type: 'notify', route: 'hang.forever', body: {} }), true);
    await settle();
    expect(admission.inFlight(ADDRESS)).toBe(2);
    clock.advance(settings.requestTimeoutMs - 1);
    expect(admission.inFlight(ADDRESS)).toBe(2);
    clock.advance(1);
    expect(admission.inFlight(ADDRESS)).toBe(0);
    await settle();
    expect(t.got.length).toBe(answered);
  });

  it("a failing notify's slot goes back at once and its failure is counted by code", async () => {
    const { t, c, services, admission } = setup();
    c.handler.receive(encodeFrame({ type: 'hello', v: 1, client: 't' }), true);
    await settle();
    const answered = t.got.length;
    c.handler.receive(encodeFrame({ type: 'notify', route: 'fail.now', body: {} }), true);
    await settle();
    expect(admission.inFlight(ADDRESS)).toBe(0);
    expect(services.metrics.errors.NOT_FOUND).toBe(1);
    expect(t.got.length).toBe(answered);
  });
});
