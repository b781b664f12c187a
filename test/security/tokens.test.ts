/**
 * Attack: a stale or forged credential. An expired token, one signed with another key, an unsigned (`alg: none`)
 * one and one with a tampered payload are refused: the verifier on the injected clock answers UNAUTHORIZED, and a
 * gateway in token mode closes such a native or Pomelo connection with 4100. Before gateway authentication no
 * token was looked at, so all of these got in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lobbyApp } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { ManualClock } from '../../common/clock.js';
import { createTokenVerifier, readSecretFile, signToken } from '../../gateway/auth/tokens.js';
import { CloseCode } from '../../protocol/error-codes.js';
import { rawConnect } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';
import { testKeys, type TestKeys } from '../support/auth.js';

const HOUR = 3_600_000;

describe('expired and badly signed tokens (security)', () => {
  let keys: TestKeys;
  let other: TestKeys;
  let gw: GatewayNode;
  beforeAll(async () => {
    keys = await testKeys();
    other = await testKeys();
    gw = await startGatewayNode({ apps: [lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
  });
  afterAll(async () => {
    await gw?.stop();
    await keys?.dispose();
    await other?.dispose();
  });

  it('checks exp on the injected clock, the signature, and the claims', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const verify = await createTokenVerifier(keys.auth(), clock);
    const token = await keys.token({ sub: 'alice', capcomIds: ['ALICE1'], ttlSec: 3600 }, clock.now());
    await expect(verify(token)).resolves.toEqual({ account: 'alice', capcomIds: ['ALICE1'] });
    clock.advance(HOUR + 1000);
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('EXPIRED') });
    const forged = await other.token({ sub: 'alice' }, clock.now());
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const [h, p, s] = (await keys.token({ sub: 'mallory' }, clock.now())).split('.');
    const swapped = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'alice' })).toString('base64url');
    await expect(verify(`${h}.${swapped}.${s}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    await expect(verify(none)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const secret = await readSecretFile(keys.keyFile);
    const badClaim = await signToken(secret, { sub: 'x', capcomIds: 'ALICE1' as unknown as string[], ttlSec: 60 }, clock.now());
    await expect(verify(badClaim)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a gateway closes connections presenting an expired or foreign token with 4100, both protocols', async () => {
    const expired = await keys.token({ sub: 'alice', ttlSec: 60 }, Date.now() - HOUR);
    const foreign = await other.token({ sub: 'alice' });
    for (const token of [expired, foreign]) {
      const c = await rawConnect(gw.wsUrl);
      c.send({ type: 'hello', v: 1, token });
      expect(await c.closed).toBe(CloseCode.Unauthorized);
      expect(c.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
      await expect(connectPomelo(gw.pomeloWsUrl, { user: { token }, timeoutMs: 3000 })).rejects.toThrow();
    }
    const good = await connectPomelo(gw.pomeloWsUrl, { user: { token: await keys.token({ sub: 'alice' }) } });
    expect(await good.request('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 3 })).toMatchObject({ id: 'ALICE1' });
    await good.close();
  });
});
