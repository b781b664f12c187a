/**
 * Flight recorder and replay on a lobby city: the city is recorded (actors/runtime/recorder.ts) while hunters open it,
 * form a quest circle that departs, the city's node is replaced (the city reloads on a new host: a new instance, so a
 * new base frame, the replay's checkpoint), and its leader leaves (hand-over to the next hunter); timers fire on the
 * injected clock. The recording, written and read back in the file format, replays on the machine alone to the
 * exact state the live city ended in.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import { announceRecording, isRecordFrame, TurnRecorder, type RecordFrame } from '../../actors/runtime/recorder.js';
import { decodeRecording, encodeRecordingLine, replayRecording, type ReplayStep } from '../../actors/runtime/replay.js';
import type { Bus } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { ManualClock } from '../../common/clock.js';
import { eventually } from '../../dev/wait.js';
import { lobbyKinds } from '../../lobby/kinds.js';
import { K } from '../../lobby/tree.js';
import { memoryImpl, type Env } from '../support/impls.js';
import { cid, SMALL_TREE, startLobby, type LobbyRig, type Session } from '../support/lobby-runtime.js';

const CITY = 's01-g01-c01';

describe('flight recorder: replay of a lobby city', () => {
  let env: Env;
  const hosts: ActorHost[] = [];
  const recorders: TurnRecorder[] = [];
  let tool: Bus;
  let rig: LobbyRig;
  const clock = new ManualClock();

  beforeAll(async () => {
    env = await memoryImpl.setup();
    rig = await startLobby(env, { prefix: 'rec', clock, hosts });
    tool = await env.connect('rec');
  });
  afterAll(async () => {
    for (const r of recorders) r.stop();
    for (const h of hosts) await h.stop();
    await tool?.close();
    await env?.teardown();
  });

  function installRecorder(host: ActorHost): TurnRecorder {
    const r = new TurnRecorder(host.bus, clock, host.nodeId);
    r.start();
    host.taps.recorder = r;
    recorders.push(r);
    return r;
  }

  it('replays a city through a circle departing, a move to another host and a leader hand-over, to the same state', async () => {
    const rec = installRecorder(rig.host);
    const frames: RecordFrame[] = [];
    tool.subscribe(subjects.trace(K.city, CITY), (m) => {
      const f = decode<unknown>(m.data);
      if (isRecordFrame(f)) frames.push(f);
    });
    const stopAnnouncing = announceRecording(tool, K.city, CITY);
    try {
      await eventually(() => rec.active, { timeoutMs: 5000, what: 'the node hears the recording request' });

      const hunter = async (n: number, at: string): Promise<Session> => {
        const s = rig.session(n);
        await s.call('lobby.login', { capcomId: cid(n), name: `Hunter${n}`, hr: 40 });
        await s.call('lobby.enter', { layer: at });
        return s;
      };
      const lead = await hunter(1, 's01-g01');
      await lead.call('lobby.city.reserve', { city: CITY });
      await lead.call('lobby.city.open', { settings: { goal: 'Deviljho' } });
      const b = await hunter(2, CITY);
      const c = await hunter(3, CITY);
      const q = (await lead.call<{ circle: string }>('lobby.circle.create', { goal: 'Deviljho' })).circle;
      await b.call('lobby.circle.join', { circle: q });
      await b.call('lobby.circle.ready', { ready: true });
      await lead.call('lobby.circle.depart');
      await eventually(async () => ((await c.call('lobby.circles')) as unknown as Array<{ state: string }>).some((x) => x.state === 'departed'), { timeoutMs: 5000, what: 'the city shows the circle departed' });
      clock.advance(SMALL_TREE.refreshMs * 2); // the city's periodic timers fire as turns
      const beforeMove = frames.length;

      // The city's node goes away; the city is served by a new host (a new instance: a new base frame).
      const moved = await rig.restartHost();
      const rec2 = installRecorder(moved);
      // A node that was running all along would know already; this one hears the next renewal (every 2 s).
      await eventually(() => rec2.active, { timeoutMs: 5000, what: 'the new host hears the recording request' });
      await lead.call('lobby.circle.leave');
      await lead.call('lobby.leave'); // the leader leaves: b leads the city
      await eventually(() => b.of('lobby.onLeader').some((l) => l.layer === CITY && l.leader === cid(2)), { timeoutMs: 5000, what: 'b hears it leads' });
      await c.call('lobby.chat', { text: 'gg' });
      clock.advance(SMALL_TREE.refreshMs * 2);
      const live = await rig.client.ask<{ value: unknown; context: Record<string, unknown>; node: string }>({ kind: K.city, id: CITY }, { type: '$inspect' });
      await eventually(() => frames.length > beforeMove && frames.at(-1)?.r === 'turn' && frames.some((f, i) => i >= beforeMove && f.r === 'base'), { timeoutMs: 5000, what: 'frames from the new host' });
      await tool.flush();

      // Through the file format and back.
      const text = [encodeRecordingLine({ r: 'recording', v: 1, kind: K.city, id: CITY, startedAt: 0 }), ...frames.map(encodeRecordingLine)].join('\n');
      const file = decodeRecording(text);
      expect(file.frames.length).toBe(frames.length);
      const bases = file.frames.filter((f) => f.r === 'base');
      expect(new Set(bases.map((f) => f.node)).size).toBe(2); // recorded on both hosts

      const kind = lobbyKinds(SMALL_TREE).find((k) => k.name === K.city)!;
      const steps: ReplayStep[] = [];
      const res = replayRecording(kind, file.frames, { onStep: (s) => steps.push(s) });
      expect(steps.filter((s) => !s.match)).toEqual([]);
      expect(res.checkpoints).toEqual([{ node: bases[1]!.node, match: true }]);
      expect(res.matches).toBe(true);
      expect(steps.map((s) => s.label)).toEqual(expect.arrayContaining(['circleReport', 'leave', 'timer']));
      // The replayed final state is the live city's (its $inspect view: the city kind redacts nothing).
      expect(res.final).toEqual({ value: live.value, context: live.context });
      expect((live.context as { leader: string }).leader).toBe(cid(2));

      // A recording with a turn missing does not pass for a faithful one.
      const gap = file.frames.findIndex((f) => f.r === 'turn' && f.label === 'open');
      const broken = replayRecording(kind, file.frames.filter((_, i) => i !== gap));
      expect(broken.matches).toBe(false);
      expect(broken.mismatches).toBeGreaterThan(0);

      // --until stops early: fewer turns, a state that is not the last one.
      const part = replayRecording(kind, file.frames, { until: 3 });
      expect(part.turns).toBe(3);

      // `gatehouse replay FILE` prints each transition and the verdict.
      const dir = mkdtempSync(join(tmpdir(), 'gh-replay-'));
      const printed: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (printed.push(String(s)), true));
      try {
        writeFileSync(join(dir, 'city.rec.jsonl'), text);
        await runReplay([join(dir, 'city.rec.jsonl'), '--log-level', 'silent']);
      } finally {
        spy.mockRestore();
        rmSync(dir, { recursive: true, force: true });
      }
      const out = printed.join('');
      expect(out).toContain(`final state matches the recording (${res.turns} turns)`);
      expect(out).toMatch(/-- continues on n\d: its starting state is the replayed one/);
      expect(out).toMatch(/#1 \[n1\] /);
    } finally {
      stopAnnouncing();
    }
  });
});
