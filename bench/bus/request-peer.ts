/**
 * Request/reply peer for bench bus: `request-peer.js <role> <nats url>` where role is
 *   responder-raw   nc.subscribe callback + msg.respond (serves `floor` and `nc`)
 *   responder-ours  bus.subscribe + bus.respond
 *   floor           the raw request floor (bench/raw-request-floor.ts) → responder-raw
 *   nc              nc.request() → responder-raw (for reference: what nats.js gives out of the box)
 *   ours            bus.request() → responder-ours
 * Responders echo the request payload.
 */
import type { NatsConnection } from 'nats';
import { Histogram, cpuSeconds } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { createRawFloor } from '../raw-request-floor.js';
import { OURS_PREFIX, RAW_ROOT, REQ_SUBJECT, connectOurs, connectRaw, payload, type OursBus } from './common.js';

type Role = 'responder-raw' | 'responder-ours' | 'floor' | 'nc' | 'ours';
const [role, url] = process.argv.slice(2) as [Role, string];

let nc: NatsConnection | undefined;
let bus: OursBus | undefined;
let request: (data: Uint8Array) => Promise<unknown> = () => Promise.reject(new Error(`${role} does not send requests`));

async function setup(): Promise<void> {
  const rawSubj = `${RAW_ROOT}.${REQ_SUBJECT}`;
  switch (role) {
    case 'responder-raw': {
      nc = await connectRaw(url, role);
      nc.subscribe(rawSubj, { callback: (_e, m) => m.respond(m.data) });
      break;
    }
    case 'responder-ours': {
      const b = (bus = await connectOurs(url, role));
      b.subscribe(REQ_SUBJECT, (m) => b.respond(m, m.data));
      break;
    }
    case 'floor': {
      nc = await connectRaw(url, role);
      const floor = createRawFloor(nc, `${RAW_ROOT}._INBOX`);
      request = (d) => floor.request(rawSubj, d);
      break;
    }
    case 'nc': {
      const c = (nc = await connectRaw(url, role));
      request = (d) => c.request(rawSubj, d, { timeout: 5000 });
      break;
    }
    case 'ours': {
      const b = (bus = await connectOurs(url, role));
      request = (d) => b.request(REQ_SUBJECT, d, { timeoutMs: 5000 });
      break;
    }
  }
  await (nc ? nc.flush() : bus!.flush());
}

/** `inflight` closed loops, each sending its next request when the previous reply arrives, for `ms`. */
async function run(inflight: number, ms: number, size: number) {
  const data = payload(size);
  const hist = new Histogram();
  let stop = false;
  let count = 0;
  const loop = async () => {
    while (!stop) {
      const t = performance.now();
      await request(data);
      hist.record((performance.now() - t) * 1000);
      count++;
    }
  };
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const timer = setTimeout(() => (stop = true), ms);
  try {
    await Promise.all(Array.from({ length: inflight }, loop));
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { count, seconds, cpu: cpuSeconds() - cpu0, hist: hist.toJSON() };
}

await servePeer({
  setup: async () => {
    await setup();
    return { prefix: OURS_PREFIX };
  },
  commands: {
    run: (a) => run(Number(a.inflight), Number(a.ms), Number(a.size)),
  },
  close: () => (nc ? nc.close() : bus?.close()),
});
