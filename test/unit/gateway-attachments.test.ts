/**
 * The gateway's attachments against a fake actor client: a socket that goes while its session is being resumed or
 * made durable is told to the session actor by the attachments (the connection actor could not know), and an
 * anonymous session ends with its connection unless it is being made durable.
 */
import { describe, expect, it } from 'vitest';
import type { ActorClient } from '../../actors/runtime/client.js';
import type { Address, ConnRef } from '../../actors/runtime/effects.js';
import { silentLogger } from '../../common/logger.js';
import { DEFAULTS } from '../../config/defaults.js';
import { createAttachments, type Attachment, type ConnectionHandle } from '../../gateway/attachments.js';
import type { SessionEndInfo } from '../../gateway/hooks.js';
import { gatewaySettings } from '../../gateway/settings.js';

type Sent = { to: Address; msg: { type: string; [k: string]: unknown } };

function fakeActors() {
  const told: Sent[] = [];
  const asked: Sent[] = [];
  const pending: Array<(v: unknown) => void> = [];
  const actors = {
    tell: (to: Address, msg: Sent['msg']) => void told.push({ to, msg }),
    ask: (to: Address, msg: Sent['msg']) => {
      asked.push({ to, msg });
      return new Promise((resolve) => pending.push(resolve));
    },
  } as unknown as ActorClient;
  return { actors, told, asked, answer: (v: unknown = {}) => pending.shift()!(v) };
}

function handle(): ConnectionHandle & { end(as: 'resumable' | 'final'): void } {
  let current: Attachment | undefined;
  let endedAs: 'resumable' | 'final' | undefined;
  const ref: ConnRef = { gw: 'gw1', id: 'c1' };
  return {
    ref,
    get endedAs() {
      return endedAs;
    },
    get attachment() {
      return current;
    },
    attach: (a) => void (current = a),
    end: (as) => void (endedAs = as),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const fake = fakeActors();
  const ended: SessionEndInfo[] = [];
  const attachments = createAttachments(fake.actors, gatewaySettings(DEFAULTS), silentLogger, async (info) => void ended.push(info));
  return { ...fake, ended, attachments };
}

describe('gateway attachments', () => {
  it('tells the session actor `detach` when the socket went while its session was being resumed', async () => {
    const { attachments, asked, told, answer } = setup();
    const h = handle();
    const resuming = attachments.resume(h, 'sessionid1.secretsecret');
    expect(asked[0]!.msg.type).toBe('resume');
    h.end('resumable');
    answer({ identity: 'ann', data: { k: 1 } });
    const r = await resuming;
    expect(r!.attachment).toMatchObject({ session: 'sessionid1', identity: 'ann', data: { k: 1 }, durable: true });
    expect(h.attachment).toBe(r!.attachment);
    expect(told).toContainEqual({ to: { kind: 'session', id: 'sessionid1' }, msg: { type: 'detach', conn: h.ref } });
  });

  it('tells the session actor `end` when the socket closed for good while the session was being created', async () => {
    const { attachments, asked, told, ended, answer } = setup();
    const h = handle();
    const a = attachments.anonymous(h);
    const creating = attachments.materialize(h);
    expect(asked[0]).toMatchObject({ to: { kind: 'session', id: a.session }, msg: { type: 'create' } });
    h.end('final');
    attachments.ended(h);
    await tick();
    expect(ended).toEqual([]); // being made durable: the session actor ends it, not this gateway
    answer();
    await creating;
    expect(a.durable).toBe(true);
    expect(told.map((t) => t.msg.type)).toEqual(['session', 'end']);
  });

  it('ends an anonymous session with its connection, and tells nobody', async () => {
    const { attachments, told, ended } = setup();
    const h = handle();
    const a = attachments.anonymous(h);
    h.end('resumable');
    attachments.ended(h);
    await tick();
    expect(ended).toEqual([{ session: a.session, identity: undefined, conn: h.ref, data: {} }]);
    expect(told).toEqual([]);
  });
});
