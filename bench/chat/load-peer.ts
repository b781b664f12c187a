/**
 * bench chat, load side: holds this process's share of every system's clients and drives them. Clients are opened
 * per system once (`open`) and moved to the next room size's rooms (`move`); `run` makes them send stamped chat lines at a fixed total rate for one window while every
 * chat line heard is counted and its send→receive latency recorded (the stamp is read on the host's monotonic clock,
 * see clock.ts, so senders in other load processes are measured the same way). Counters are cumulative per system,
 * so the benchmark can wait after a window until every line sent has been heard (`counts`).
 *
 *   commands: open {system, kind, url, members: [name, room][], concurrency} · move {system, members, concurrency}
 *             run {system, ms, rate} · counts {system} · close {system}
 */
import { Histogram } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { monoMs, sentAt, stampedMessage } from './clock.js';
import type { ChatClient, ChatOpener } from './clients/types.js';
import { openGatehouse } from './clients/gatehouse.js';
import { openRawWs } from './clients/raw-ws.js';
import { openColyseus } from './clients/colyseus.js';
import { pomeloOpener } from './clients/pomelo.js';

export type ClientKind = 'gatehouse' | 'raw' | 'colyseus' | 'pomelo-stock' | 'pomelo-tuned';

const openers: Record<ClientKind, ChatOpener> = {
  gatehouse: openGatehouse,
  raw: openRawWs,
  colyseus: openColyseus,
  'pomelo-stock': pomeloOpener({ deflate: true }),
  'pomelo-tuned': pomeloOpener({ deflate: false }),
};

interface SystemState {
  clients: ChatClient[];
  byName: Map<string, ChatClient>;
  sent: number;
  received: number;
  sendErrors: number;
  measuring: boolean;
  windowReceived: number;
  hist: Histogram;
}

const systems = new Map<string, SystemState>();

function state(system: string): SystemState {
  const s = systems.get(system);
  if (!s) throw new Error(`no clients open for ${system}`);
  return s;
}

async function open(system: string, kind: ClientKind, url: string, members: Array<[string, string]>, concurrency: number) {
  const st: SystemState = { clients: [], byName: new Map(), sent: 0, received: 0, sendErrors: 0, measuring: false, windowReceived: 0, hist: new Histogram() };
  systems.set(system, st);
  const handlers = {
    onChat(msg: string) {
      st.received++;
      if (st.measuring) {
        st.windowReceived++;
        st.hist.record((monoMs() - sentAt(msg)) * 1000);
      }
    },
    onSendError() {
      st.sendErrors++;
    },
  };
  const r = await each(members, concurrency, async ([name, room]) => {
    // A join the server could not take in time (e.g. Colyseus' matchmaking over HTTP on a swamped host) is tried
    // again: a member missing from a room would make every line to it look partly lost.
    for (let attempt = 1; ; attempt++) {
      try {
        st.byName.set(name, await openers[kind](url, name, room, handlers));
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await new Promise((res) => setTimeout(res, 500 * attempt));
      }
    }
  });
  // Send order: a fixed shuffle, so consecutive lines go to different rooms and every client sends at the same rate.
  st.clients = shuffle([...st.byName.values()]);
  return { opened: st.clients.length, ...r };
}

/**
 * Moves this process's clients of `system` to the rooms given (same names as opened). A client whose move failed
 * stops sending (it may still sit in its old room), so every line sent goes to a room of the size the bench expects.
 */
async function move(system: string, members: Array<[string, string]>, concurrency: number) {
  const st = state(system);
  const moved = new Set<ChatClient>();
  const r = await each(members, concurrency, async ([name, room]) => {
    const c = st.byName.get(name);
    if (!c) throw new Error(`no client ${name}`);
    await c.switchTo(room);
    moved.add(c);
  });
  st.clients = st.clients.filter((c) => moved.has(c));
  return r;
}

/** Runs `fn` over `items`, `concurrency` at a time; counts failures, keeps the first reason and which items failed. */
async function each<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let firstError = '';
  const failedItems: T[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed++;
        failedItems.push(item);
        firstError ||= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { failed, failedItems, firstError, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Sends `rate` lines/s in total, spread evenly over this process's clients of `system`, for `leadMs + ms`, and
 * measures only the last `ms`: by then the system is in its steady state (pipelines full, whatever its latency), so
 * a system that keeps up delivers the offered rate in the window however long a line takes to cross it.
 */
async function run(system: string, ms: number, rate: number, leadMs: number) {
  const st = state(system);
  st.hist = new Histogram();
  st.windowReceived = 0;
  const sentBefore = st.sent;
  const errorsBefore = st.sendErrors;
  const n = st.clients.length;
  const total = leadMs + ms;
  let turn = 0;
  let sent = 0;
  let windowStart = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      if (!st.measuring && windowStart === 0 && elapsed >= leadMs) {
        st.measuring = true;
        windowStart = performance.now();
      }
      const due = Math.min(Math.floor((Math.min(elapsed, total) / 1000) * rate), Math.ceil((total / 1000) * rate));
      for (; sent < due && n > 0; sent++) {
        st.clients[turn]!.send(stampedMessage());
        turn = (turn + 1) % n;
      }
      if (elapsed >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 2);
  });
  const seconds = (performance.now() - windowStart) / 1000;
  st.measuring = false;
  st.sent += sent;
  return {
    sent: st.sent - sentBefore,
    received: st.windowReceived,
    sendErrors: st.sendErrors - errorsBefore,
    seconds,
    hist: st.hist.toJSON(),
  };
}

function counts(system: string) {
  const st = state(system);
  return { sent: st.sent, received: st.received, sendErrors: st.sendErrors };
}

function close(system: string) {
  const st = systems.get(system);
  if (!st) return { closed: 0 };
  for (const c of st.clients) c.close();
  systems.delete(system);
  return { closed: st.clients.length };
}

function shuffle<T>(a: T[]): T[] {
  let seed = 0x9e3779b9;
  for (let i = a.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

await servePeer({
  commands: {
    open: (a) => open(String(a.system), a.kind as ClientKind, String(a.url), a.members as Array<[string, string]>, Number(a.concurrency ?? 32)),
    move: (a) => move(String(a.system), a.members as Array<[string, string]>, Number(a.concurrency ?? 32)),
    run: (a) => run(String(a.system), Number(a.ms), Number(a.rate), Number(a.leadMs ?? 0)),
    counts: (a) => counts(String(a.system)),
    close: (a) => close(String(a.system)),
  },
  close: () => {
    for (const s of [...systems.keys()]) close(s);
  },
});
