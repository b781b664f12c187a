/**
 * Attack: resuming someone else's session with a stolen ticket. The ticket (`<session>.<secret>`) resumed the session
 * whatever credential came with it, and the resumed connection carried the victim's principal: with auth on, a
 * ticket read off a victim's machine (or a log) was worth as much as the victim's token. Now, in token (and hook)
 * mode, a session opened by an account resumes only for that account: a hello with the ticket and another account's
 * token, or with no token at all, gets UNAUTHORIZED and close 4100, and the victim's session is untouched (its
 * ticket still resumes for the victim; a victim still connected is not displaced).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { lobbyApp } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { CloseCode } from '../../protocol/error-codes.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';
import { testKeys, type TestKeys } from '../support/auth.js';

describe('stolen session ticket (security)', () => {
  let keys: TestKeys;
  let node: GatewayNode;
  const open: RawClient[] = [];
  const connect = async () => {
    const c = await rawConnect(node.wsUrl);
    open.push(c);
    return c;
  };
  /** A hello with `ticket` and (when `sub` is given) a token for that account. */
  const hello = async (c: RawClient, ticket: string, sub?: string) =>
    c.send({ type: 'hello', v: 1, ticket, ...(sub && { token: await keys.token({ sub }) }) });
  /** Alice connected with her token, logged in to the lobby (which makes her session durable): her ticket. */
  const aliceSession = async (capcomId: string) => {
    const c = await connect();
    await hello(c, 'none.none', 'alice'); // a malformed ticket: a fresh session
    const w = await c.next((f) => f.type === 'welcome');
    expect((await c.request(1, 'lobby.login', { capcomId, name: 'Alice', hr: 10 })).error).toBeUndefined();
    return { c, ticket: (w as { ticket: string }).ticket };
  };
  const refused = async (c: RawClient) => {
    expect(await c.closed).toBe(CloseCode.Unauthorized);
    expect(c.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(c.frames.some((f) => f.type === 'welcome')).toBe(false);
  };

  beforeAll(async () => {
    keys = await testKeys();
    // Chat admits anonymous clients, so a hello without a token is let through authentication: only the ticket
    // check stands between it and the victim's session.
    node = await startGatewayNode({ apps: [chatApp, lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth({ anonymousApps: ['chat'] }) } });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await node?.stop();
    await keys?.dispose();
  });

  it("another account's token, or none, cannot resume a detached session; its owner still can", async () => {
    const alice = await aliceSession('ALICE1');
    alice.c.destroy(); // the victim's connection drops: the session waits for a resume
    await alice.c.closed;

    const mallory = await connect();
    await hello(mallory, alice.ticket, 'mallory');
    await refused(mallory);
    const anonymous = await connect();
    await hello(anonymous, alice.ticket);
    await refused(anonymous);

    // The refused attempts changed nothing: the same ticket resumes for Alice, as Alice, logged in.
    const back = await connect();
    await hello(back, alice.ticket, 'alice');
    expect(await back.next((f) => f.type === 'welcome')).toMatchObject({ resumed: true });
    const me = await back.request(1, 'lobby.whoami');
    expect(me.error).toBeUndefined();
    expect(JSON.stringify(me.body)).toContain('ALICE1');
  });

  it('a connected victim is not displaced by a stolen-ticket attempt', async () => {
    const alice = await aliceSession('ALICE2');
    const mallory = await connect();
    await hello(mallory, alice.ticket, 'mallory');
    await refused(mallory);
    expect(alice.c.isClosed).toBe(false);
    expect((await alice.c.request(2, 'lobby.whoami')).error).toBeUndefined();
  });

  it('an unknown or expired ticket with a valid token still gets a fresh session, not UNAUTHORIZED', async () => {
    const c = await connect();
    await hello(c, 'AAAAAAAAAAAA.BBBBBBBBBBBB', 'carol');
    expect(await c.next((f) => f.type === 'welcome')).toMatchObject({ resumed: false });
  });
});
