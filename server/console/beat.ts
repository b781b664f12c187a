/**
 * What every node tells consoles and `gatehouse top` about itself, once a second, on `sys.console.<node>`: CPU, memory,
 * message rate, actors and turns per kind. Only while someone watches: a console (or top) announces itself on
 * `sys.tap` like a trace tap (`{ pattern: 'console', ttlMs, console: true }`, renewed), and a node nobody watches
 * publishes nothing and counts nothing (the turn counter in recorder.ts is off). One node's console sees the whole
 * cluster this way, through the bus, whichever node serves the page.
 */
import type { Bus, Subscription } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import type { TurnRecorder } from '../../actors/runtime/recorder.js';
import { TAP_TOPIC, type TapAnnouncement } from '../../actors/runtime/trace.js';
import type { Clock } from '../../common/clock.js';
import { AppViews } from './app-views.js';

export const CONSOLE_TOPIC = 'console';
export const BEAT_MS = 1000;

export interface ConsoleBeat {
  node: string;
  at: number;
  /** Process CPU over the last interval, percent of one core. */
  cpu: number;
  rssMb: number;
  actors: number;
  shards: number;
  /** Messages received by actors per second. */
  msgsPerSec: number;
  perKind: Record<string, number>;
  /** Turns per second, per kind. */
  turnsPerKind: Record<string, number>;
  /** Apps' views: kind → actor id → members or players (app-views.ts). */
  apps: Record<string, Record<string, number>>;
}

export interface ConsoleAnnouncement extends TapAnnouncement {
  console?: true;
}

/** Announces a console watcher until stopped (renewed every 2 s; nodes stop beating 6 s after the last one). */
export function announceConsole(bus: Bus, everyMs = 2000): () => void {
  const send = () => {
    try {
      bus.publish(subjects.sys(TAP_TOPIC), encode({ pattern: CONSOLE_TOPIC, ttlMs: 6000, console: true } satisfies ConsoleAnnouncement));
    } catch {
      /* closing */
    }
  };
  send();
  const t = setInterval(send, everyMs);
  t.unref();
  return () => clearInterval(t);
}

export class ConsoleBeater {
  private watchedUntil = 0;
  private sub?: Subscription;
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private lastReceived = 0;
  beats = 0;
  private readonly views: AppViews;

  constructor(
    private readonly bus: Bus,
    private readonly host: ActorHost,
    private readonly recorder: TurnRecorder,
    private readonly clock: Clock,
    private readonly nodeId: string,
  ) {
    this.views = new AppViews(() => clock.now());
  }

  start(): void {
    this.sub = this.bus.subscribe(subjects.sys(TAP_TOPIC), (m) => {
      try {
        const a = decode<ConsoleAnnouncement>(m.data);
        if (a?.console !== true) return;
        const first = this.watchedUntil < this.clock.now();
        this.watchedUntil = this.clock.now() + Math.min(Math.max(a.ttlMs ?? 6000, 1000), 60_000);
        if (first) this.watch();
      } catch {
        /* malformed: ignored */
      }
    });
  }

  private watch(): void {
    if (this.timer) return;
    this.recorder.countTurns(true);
    this.recorder.observer = this.views.observe;
    this.sample();
    this.timer = setInterval(() => {
      if (this.watchedUntil < this.clock.now()) return this.unwatch();
      this.publish();
    }, BEAT_MS);
    this.timer.unref();
    this.publish();
  }

  private unwatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.recorder.countTurns(false);
    this.recorder.observer = undefined;
    this.views.clear();
  }

  /** Resets the interval's baselines; returns the rates since the last call. */
  private sample(): { cpu: number; msgsPerSec: number; seconds: number } {
    const now = performance.now();
    const seconds = Math.max((now - this.lastAt) / 1000, 0.001);
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const received = this.host.metrics.received;
    const msgs = received - this.lastReceived;
    this.lastReceived = received;
    return { cpu: Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 1000) / 10, msgsPerSec: Math.round(msgs / seconds), seconds };
  }

  private publish(): void {
    const { cpu, msgsPerSec, seconds } = this.sample();
    const stats = this.host.stats();
    const turnsPerKind: Record<string, number> = {};
    for (const [k, n] of Object.entries(this.recorder.takeCounts())) turnsPerKind[k] = Math.round(n / seconds);
    const beat: ConsoleBeat = { node: this.nodeId, at: this.clock.now(), cpu, rssMb: Math.round(process.memoryUsage.rss() / 1048576), actors: stats.actors, shards: stats.shards, msgsPerSec, perKind: stats.perKind, turnsPerKind, apps: this.views.snapshot() };
    try {
      this.bus.publish(subjects.sys(CONSOLE_TOPIC, this.nodeId), encode(beat));
      this.beats++;
    } catch {
      /* closing */
    }
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.unwatch();
  }
}
