import { describe, expect, it } from 'vitest';
import { parseMoveTarget } from '../../bin/commands/cluster-tools.js';
import { shardOf } from '../../bus/subjects.js';

describe('move target', () => {
  it('takes a shard or an actor, which is placed by its shard', () => {
    expect(parseMoveTarget('room:12', 64)).toEqual({ kind: 'room', shard: 12 });
    expect(parseMoveTarget('room/lobby-1', 64)).toEqual({ kind: 'room', shard: shardOf('lobby-1', 64), actor: 'lobby-1' });
    expect(parseMoveTarget('city/v1/g03', 256)).toEqual({ kind: 'city', shard: shardOf('v1/g03', 256), actor: 'v1/g03' });
  });

  it('names what is wrong', () => {
    expect(() => parseMoveTarget('room:64', 64)).toThrow(/shard 64 out of range: this deployment has 64 shards per kind/);
    for (const bad of ['room', 'room:', 'room/', '/x', 'Room:1', 'room:-1', ''])
      expect(() => parseMoveTarget(bad, 64)).toThrow(/expected <kind>:<shard> \(e\.g\. room:12\) or <kind>\/<id>/);
  });
});
