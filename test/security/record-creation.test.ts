/**
 * Attack: creating durable records by logging in. With auth mode `none` (development) anyone may log in as any
 * never-seen Capcom ID, and each such login wrote a player record that stays forever: a script could fill the store.
 * Now the logins of one remote address may create lobby.newPlayersPerAddressPerMinute new records per gateway (a
 * bucket of a minute's worth); past it a login of a new ID is refused TOO_MANY_NEW_PLAYERS and writes nothing, while
 * logging in again as an existing ID costs nothing. (With token or hook auth an account logs in only as IDs it owns:
 * impersonation.test.ts, tokens.test.ts.) The budget itself, refill and memory, is unit-tested below on a manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';
import { PlayerBudget } from '../../lobby/player-budget.js';
import { K } from '../../lobby/tree.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';

const BUDGET = 3;

describe('record creation by logins, auth mode none (security)', () => {
  let node: GatewayNode;
  const open: RawClient[] = [];
  beforeAll(async () => {
    // Loopback is exempt by default (bots and benchmarks on the box); here it counts like any address.
    const tree = { ...LOBBY_DEFAULTS, newPlayersPerAddressPerMinute: BUDGET, newPlayersExempt: [] };
    node = await startGatewayNode({ apps: [createLobbyApp(tree)], embedded: createEmbedded() });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await node?.stop();
  });

  const login = async (capcomId: string) => {
    const c = await rawConnect(node.wsUrl);
    open.push(c);
    await c.hello();
    const r = await c.request(1, 'lobby.login', { capcomId, name: 'Script', hr: 1 });
    if (!r.error) await c.request(2, 'lobby.logout');
    c.destroy();
    return r.error?.code ?? 'OK';
  };

  it(`one address creates ${BUDGET} new records a minute; the next new ID is refused and leaves nothing`, async () => {
    const codes = [];
    for (let i = 0; i < BUDGET + 5; i++) codes.push(await login(`NEW00${i}`));
    expect(codes).toEqual([...Array(BUDGET).fill('OK'), ...Array(5).fill('TOO_MANY_NEW_PLAYERS')]);
    const store = node.node.host;
    for (let i = 0; i < BUDGET + 5; i++) expect(!!(await store.snapshots!.load(K.player, `NEW00${i}`))).toBe(i < BUDGET);
    // The refusals are counted (gatehouse_gateway_request_errors_total{code="TOO_MANY_NEW_PLAYERS"}).
    expect(node.gateway!.status!().errors).toMatchObject({ TOO_MANY_NEW_PLAYERS: 5 });
  });

  it('logging in again as an existing ID spends nothing', async () => {
    for (let i = 0; i < 2 * BUDGET; i++) expect(await login('NEW000')).toBe('OK');
  });
});

describe('PlayerBudget', () => {
  it('refills at the rate on the injected clock, never above a minute of it; exempt addresses are not counted', () => {
    let now = 0;
    const b = new PlayerBudget({ newPlayersPerAddressPerMinute: 6, newPlayersExempt: ['10.0.0.9'] }, () => now);
    const take = (n: number, a = '10.0.0.1') => Array.from({ length: n }, () => b.take(a)).filter(Boolean).length;
    expect(take(10)).toBe(6);
    now += 10_000; // 6 a minute: one every 10 s
    expect(take(3)).toBe(1);
    now += 3_600_000;
    expect(take(10)).toBe(6);
    expect(take(100, '10.0.0.9')).toBe(100);
    expect(b.take(undefined)).toBe(true);
    expect(b.refused).toBe(4 + 2 + 4);
  });

  it('forgets addresses whose bucket refilled: memory holds the addresses active within a minute', () => {
    let now = 0;
    const b = new PlayerBudget({ newPlayersPerAddressPerMinute: 2, newPlayersExempt: [] }, () => now);
    for (let i = 0; i < 5000; i++) b.take(`10.1.${i >> 8}.${i & 255}`);
    expect(b.tracked).toBeGreaterThan(1000);
    now += 60_000;
    for (let i = 0; i < 5000; i++) b.take(`10.2.${i >> 8}.${i & 255}`);
    // The first 5 000 refilled a minute later and were swept; what stays is bounded by the addresses of one minute.
    expect(b.tracked).toBeLessThanOrEqual(5000 + 1024);
  });
});
