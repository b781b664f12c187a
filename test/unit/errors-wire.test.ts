import { describe, expect, it } from 'vitest';
import { ConflictError, ErrorCode, fromWire, GatehouseError, TimeoutError, withoutStack } from '../../common/errors.js';

/** The lines of a stack after its header: the frames a capture recorded. */
function frames(e: Error): string[] {
  return (e.stack ?? '').split('\n').slice(1);
}

describe('errors rebuilt from the wire', () => {
  it('keep class, code, message and name, with no stack frames', () => {
    const cases = [
      { wire: { code: 'NOT_FOUND', message: 'no such player' }, cls: GatehouseError, name: 'GatehouseError' },
      { wire: { code: ErrorCode.Timeout, message: 'ask timed out' }, cls: TimeoutError, name: 'TimeoutError' },
      { wire: { code: ErrorCode.Conflict, message: 'revision moved' }, cls: ConflictError, name: 'ConflictError' },
      { wire: { code: ErrorCode.NoResponders, message: 'no responders on x' }, cls: GatehouseError, name: 'NoRespondersError' },
    ];
    for (const { wire, cls, name } of cases) {
      const e = fromWire(wire);
      expect(e).toBeInstanceOf(cls);
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({ code: wire.code, message: wire.message, name });
      expect(e.stack).toBe(`${name}: ${wire.message}`);
      expect(frames(e)).toEqual([]);
      expect(e.toWire()).toEqual(wire);
    }
  });

  it('keep their stack when they are failures of the system, which get logged (an actor crashed)', () => {
    const e = fromWire({ code: ErrorCode.ActorFailed, message: 'actor crashed' });
    expect(e).toMatchObject({ code: ErrorCode.ActorFailed, message: 'actor crashed', name: 'GatehouseError' });
    expect(frames(e).length).toBeGreaterThan(0);
  });

  it('leave stack capture as it was for every other error', () => {
    const before = Error.stackTraceLimit;
    fromWire({ code: 'NOT_FOUND', message: 'x' });
    expect(Error.stackTraceLimit).toBe(before);
    expect(frames(new GatehouseError('X', 'y')).length).toBeGreaterThan(0);
  });

  it('withoutStack restores the limit when the maker throws', () => {
    const before = Error.stackTraceLimit;
    expect(() =>
      withoutStack(() => {
        throw new GatehouseError('X', 'thrown');
      }),
    ).toThrow('thrown');
    expect(Error.stackTraceLimit).toBe(before);
  });
});
