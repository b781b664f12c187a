import { describe, expect, it } from 'vitest';
import { KeyedChain } from '../../common/keyed-chain.js';
import { askDelivered } from '../../actors/runtime/redeliver.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import { deferred } from '../../dev/wait.js';

describe('KeyedChain', () => {
  it('runs tasks of one key in order, other keys at once, and forgets a key when its work ends', async () => {
    const chain = new KeyedChain();
    const log: string[] = [];
    const gate = deferred();
    const a1 = chain.run('a', async () => {
      await gate.promise;
      log.push('a1');
    });
    const a2 = chain.run('a', async () => {
      log.push('a2');
      throw new Error('boom');
    });
    const a3 = chain.run('a', async () => log.push('a3'));
    await chain.run('b', async () => log.push('b1'));
    expect(log).toEqual(['b1']);
    gate.resolve();
    await a1;
    await expect(a2).rejects.toThrow('boom');
    await a3;
    expect(log).toEqual(['b1', 'a1', 'a2', 'a3']);
    await Promise.resolve();
    await Promise.resolve();
    expect(chain.size).toBe(0);
  });
});

describe('askDelivered', () => {
  const to = { kind: 'k', id: 'x' };
  it('asks again while the answer proves the message was not delivered, then gives up with that error', async () => {
    let calls = 0;
    const failing = { ask: async () => { calls++; throw new GatehouseError(ErrorCode.NoResponders, 'nobody'); } };
    await expect(askDelivered(failing as never, to, {})).rejects.toMatchObject({ code: ErrorCode.NoResponders });
    expect(calls).toBe(7);
  }, 10_000);
  it('returns the first answer that arrives after refusals, and never repeats a timeout', async () => {
    let calls = 0;
    const flaky = { ask: async () => (++calls < 3 ? Promise.reject(new GatehouseError(ErrorCode.Busy, 'full')) : 'ok') };
    expect(await askDelivered(flaky as never, to, {})).toBe('ok');
    expect(calls).toBe(3);
    let timeouts = 0;
    const slow = { ask: async () => { timeouts++; throw new GatehouseError(ErrorCode.Timeout, 'late'); } };
    await expect(askDelivered(slow as never, to, {})).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(timeouts).toBe(1);
  });
});
