/**
 * The listening side of a flight recording (`gatehouse record`, the console): announces the recording, collects the
 * frames nodes publish on the actor's trace subject, and gives back the file (replay.ts's format). Bounded: at most
 * `maxFrames` frames are kept; past that the recording stops early and says so.
 */
import type { Bus, Subscription } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { announceRecording, isRecordFrame, type RecordFrame } from './recorder.js';
import { encodeRecordingLine, type RecordingHeader } from './replay.js';

export const MAX_RECORDED_FRAMES = 100_000;

export interface Recording {
  readonly kind: string;
  readonly id: string;
  readonly startedAt: number;
  readonly frames: RecordFrame[];
  /** Why it stopped early ('frame limit'), if it did. */
  truncated?: string;
  done: boolean;
  /** Resolves when stopped (by `stop()`, the duration or the frame limit). */
  readonly finished: Promise<void>;
  stop(): void;
  /** The file: a header line, then one line per frame. */
  file(): string;
}

export function startRecording(bus: Bus, kind: string, id: string, o: { forMs: number; maxFrames?: number; now?: () => number }): Recording {
  const maxFrames = o.maxFrames ?? MAX_RECORDED_FRAMES;
  const frames: RecordFrame[] = [];
  let sub: Subscription | undefined;
  let stopAnnouncing: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const rec: Recording = {
    kind,
    id,
    startedAt: (o.now ?? Date.now)(),
    frames,
    done: false,
    finished,
    stop() {
      if (rec.done) return;
      rec.done = true;
      stopAnnouncing();
      sub?.unsubscribe();
      clearTimeout(timer);
      resolve();
    },
    file() {
      const header: RecordingHeader = { r: 'recording', v: 1, kind, id, startedAt: rec.startedAt };
      return [encodeRecordingLine(header), ...frames.map(encodeRecordingLine)].join('\n') + '\n';
    },
  };
  sub = bus.subscribe(subjects.trace(kind, id), (m) => {
    let f: unknown;
    try {
      f = decode(m.data);
    } catch {
      return;
    }
    if (!isRecordFrame(f) || rec.done) return;
    frames.push(f);
    if (frames.length >= maxFrames) {
      rec.truncated = `frame limit (${maxFrames})`;
      rec.stop();
    }
  });
  stopAnnouncing = announceRecording(bus, kind, id);
  timer = setTimeout(() => rec.stop(), o.forMs);
  timer.unref?.();
  return rec;
}
