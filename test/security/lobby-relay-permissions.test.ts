/**
 * Attack: forged relays on the gateway channels. With `lobby.relayFanout` a relay is one message on
 * `<prefix>.fan.lobby-<layer>` that every gateway pushes to its players in that layer, trusting its sender field: a bus
 * user who may publish there speaks as anyone, to anyone. The users of `gatehouse nats-config` (bin/commands/
 * nats-config.ts) on a real nats-server: the gateway user publishes and subscribes there; the ops and admin users
 * cannot publish there (the server refuses, nothing is delivered). Channel subjects are built in bus/subjects.ts only,
 * and `fan` cannot be an actor kind (its subjects would be channels).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { assertKindName, subjects, TOOL_INBOX } from '../../bus/subjects.js';
import { deploymentBuckets, permissionMatrix, renderAccounts, ROLES, type Role } from '../../bin/commands/nats-config.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { eventually } from '../../dev/wait.js';
import { layerChannel } from '../../lobby/relay-channels.js';

const PREFIX = 'fansec';
const PASSWORDS = Object.fromEntries(ROLES.map((r) => [r, `${r}-pw-7`])) as Record<Role, string>;

describe('gateway channels: who may publish relays (security)', { timeout: 60_000 }, () => {
  let nats: NatsServerHandle;
  const buses: Bus[] = [];
  const connect = async (role: Role) => {
    const b = await createNatsBus({ prefix: PREFIX, servers: [nats.url], user: `${PREFIX}-${role}`, pass: PASSWORDS[role], ...(role === 'ops' || role === 'admin' ? { inbox: TOOL_INBOX } : {}) });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    const matrix = permissionMatrix({ prefix: PREFIX, buckets: deploymentBuckets(1), secretKinds: ['session'] });
    nats = await startNatsServer({ config: renderAccounts('FANSEC', PREFIX, matrix, PASSWORDS) });
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await nats?.stop();
  });

  it('the channel subject is built in one place, and `fan` is no actor kind', () => {
    expect(subjects.channel(layerChannel('s03-g12-c07'))).toBe('fan.lobby-s03-g12-c07');
    expect(() => assertKindName('fan')).toThrow(/bad actor kind/);
  });

  it('gateways publish and hear relays on a layer channel; ops and admin users cannot publish there', async () => {
    const subject = subjects.channel(layerChannel('s01-g01'));
    const listener = await connect('gateway');
    const heard: string[] = [];
    listener.subscribe(subject, (m) => heard.push((decode(m.data) as { b: { d: string } }).b.d));
    await listener.flush();
    for (const role of ['ops', 'admin'] as const) {
      const b = await connect(role);
      try {
        b.publish(subject, encode({ r: 'lobby.onRelay', b: { f: 'VICTIM', d: `forged by ${role}` }, x: 'VICTIM' }));
        await b.flush();
      } catch {
        // nats.js may also report the permission violation on the connection: refused either way.
      }
    }
    // A gateway's relay after the attempts: once it is heard, the refused ones would have been heard before it.
    const gateway = await connect('gateway');
    gateway.publish(subject, encode({ r: 'lobby.onRelay', b: { f: 'A', d: 'from a gateway' } }));
    await gateway.flush();
    await eventually(() => heard.includes('from a gateway'), { timeoutMs: 10_000, what: "the gateway's relay" });
    expect(heard).toEqual(['from a gateway']);
  });
});
