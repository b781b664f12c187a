/**
 * Quest-circle rules on the pure machine: password and capacity on join, ready, departure removes the unready
 * (with a push and a note to their records), the leader leaving before departure breaks the circle, after
 * departure the next member leads, and every change reaches the city.
 */
import { describe, expect, it } from 'vitest';
import { circleMachine } from '../../../lobby/circle.machine.js';
import { errorCode, hunter, pure, pushes, reply, targets, tells } from '../../support/lobby-pure.js';

const input = { id: 's01-g01-c01-q2', city: 's01-g01-c01', slot: 2, capacity: 4 };

function formed(password = '') {
  const q = pure(circleMachine, input);
  q.send({ type: 'create', p: hunter(1), password, goal: 'Jhen' });
  return q;
}

describe('quest circle', () => {
  it('checks the password and the capacity on join', () => {
    const q = formed('secret');
    expect(errorCode(q.send({ type: 'join', p: hunter(2), password: 'nope' }))).toBe('WRONG_PASSWORD');
    for (let i = 2; i <= 4; i++) {
      const fx = q.send({ type: 'join', p: hunter(i), password: 'secret' });
      expect(reply(fx)?.body).toMatchObject({ state: 'forming', members: expect.arrayContaining([expect.objectContaining({ id: hunter(i).id })]) });
      expect(tells(fx, 'lobby-city')[0]?.msg).toMatchObject({ type: 'circleReport', slot: 2, n: i, closed: false });
    }
    expect(errorCode(q.send({ type: 'join', p: hunter(5), password: 'secret' }))).toBe('FULL');
  });

  it('refuses joining a circle that does not exist or has departed', () => {
    const q = pure(circleMachine, input);
    expect(errorCode(q.send({ type: 'join', p: hunter(2), password: '' }))).toBe('NOT_FOUND');
    q.send({ type: 'create', p: hunter(1), password: '', goal: '' });
    q.send({ type: 'depart', id: hunter(1).id });
    expect(errorCode(q.send({ type: 'join', p: hunter(2), password: '' }))).toBe('DEPARTED');
  });

  it('departs with the ready members only; the others are removed with a push', () => {
    const q = formed();
    for (let i = 2; i <= 4; i++) q.send({ type: 'join', p: hunter(i), password: '' });
    q.send({ type: 'ready', id: hunter(2).id, ready: true });
    q.send({ type: 'ready', id: hunter(3).id, ready: true });
    q.send({ type: 'ready', id: hunter(3).id, ready: false });
    expect(errorCode(q.send({ type: 'depart', id: hunter(2).id }))).toBe('NOT_LEADER');
    const fx = q.send({ type: 'depart', id: hunter(1).id });
    expect(q.snapshot.value).toBe('departed');
    expect(q.snapshot.context.members.map((m) => m.id)).toEqual([hunter(1).id, hunter(2).id]);
    const removed = pushes(fx, 'lobby.onCircleRemoved')[0]!;
    expect(targets(removed)).toEqual(['c3', 'c4']);
    expect(removed.body).toEqual({ circle: input.id, reason: 'not ready' });
    expect(tells(fx, 'lobby-player').map((t) => t.to.id).sort()).toEqual([hunter(3).id, hunter(4).id]);
    expect(tells(fx, 'lobby-city')[0]?.msg).toMatchObject({ state: 'departed', n: 2 });
  });

  it('breaks when the leader leaves before departure: everyone out, slot freed, state deleted', () => {
    const q = formed();
    q.send({ type: 'join', p: hunter(2), password: '' });
    q.send({ type: 'join', p: hunter(3), password: '' });
    const fx = q.send({ type: 'leave', id: hunter(1).id });
    expect(q.snapshot.value).toBe('idle');
    expect(q.snapshot.context.members).toEqual([]);
    expect(pushes(fx, 'lobby.onCircleRemoved')[0]!.body).toEqual({ circle: input.id, reason: 'leader left' });
    expect(targets(pushes(fx, 'lobby.onCircleRemoved')[0]!)).toEqual(['c2', 'c3']);
    expect(tells(fx, 'lobby-city')[0]?.msg).toMatchObject({ closed: true });
    expect(fx.some((e) => e.type === 'passivate' && e.forget)).toBe(true);
  });

  it('hands over after departure when the leader leaves; the last one out closes it', () => {
    const q = formed();
    q.send({ type: 'join', p: hunter(2), password: '' });
    q.send({ type: 'ready', id: hunter(2).id, ready: true });
    q.send({ type: 'depart', id: hunter(1).id });
    const fx = q.send({ type: 'leave', id: hunter(1).id });
    expect(q.snapshot.value).toBe('departed');
    expect(q.snapshot.context.leader).toBe(hunter(2).id);
    expect(pushes(fx, 'lobby.onLeader')[0]!.body).toMatchObject({ leader: hunter(2).id });
    const last = q.send({ type: 'leave', id: hunter(2).id });
    expect(q.snapshot.value).toBe('idle');
    expect(tells(last, 'lobby-city')[0]?.msg).toMatchObject({ closed: true });
  });

  it('a member leaving a forming circle just leaves', () => {
    const q = formed();
    q.send({ type: 'join', p: hunter(2), password: '' });
    q.send({ type: 'leave', id: hunter(2).id });
    expect(q.snapshot.value).toBe('forming');
    expect(q.snapshot.context.members).toHaveLength(1);
    expect(reply(q.send({ type: 'leave', id: hunter(7).id }))?.error).toBeUndefined();
  });
});
