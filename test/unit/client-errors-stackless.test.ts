/** The errors a client's request can make the server build in a loop carry no stack trace, and nothing else is lost. */
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../common/errors.js';
import { ClientError } from '../../gateway/errors.js';
import { appError, badRequest } from '../../node-api/app-error.js';

describe('client-facing errors are built without a stack', () => {
  it.each([
    ['ClientError', () => new ClientError('RATE_LIMITED', 'slow down'), 'ClientError', 'RATE_LIMITED', 'slow down'],
    ['ClientError, default text', () => new ClientError('NOT_FOUND'), 'ClientError', 'NOT_FOUND', undefined],
    ['appError', () => appError('ROOM_FULL', 'room is full'), 'GatehouseError', 'ROOM_FULL', 'room is full'],
    ['badRequest', () => badRequest('name: too long'), 'GatehouseError', 'BAD_REQUEST', 'name: too long'],
  ] as const)('%s', (_label, make, name, code, message) => {
    const limit = Error.stackTraceLimit;
    const e = make();
    expect(Error.stackTraceLimit).toBe(limit);
    expect(e).toBeInstanceOf(GatehouseError);
    expect(e.name).toBe(name);
    expect(e.code).toBe(code);
    if (message !== undefined) expect(e.message).toBe(message);
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.stack).toBe(`${e.name}: ${e.message}`);
  });

  it('keeps the cause, whose own stack is what the log shows', () => {
    const cause = new Error('disk on fire');
    const e = new ClientError('INTERNAL', undefined, { cause });
    expect(e.cause).toBe(cause);
    expect(cause.stack).toMatch(/\n\s+at /);
  });
});
