/**
 * The sender for bench actors: `sender-peer.js <nats url> <shards>`, one process for every variant (each on its own
 * connection), so the sending side costs the same machine share whichever variant runs.
 *
 *   tell  ours: ActorClient.tell (envelope encode, subject with shard, bus publish)
 *         raw:  msgpackr pack of the event → nc.publish to `rawp.<id>`
 *   ask   ours:     ActorClient.ask → the actor's reply (bus request: one wildcard inbox, swept timeouts)
 *         floor:    the raw request floor (bench/raw-request-floor.ts) → raw echo responder
 *         rawactor: the floor → raw responder that runs the bare XState actor (reference)
 * Messages go round robin over `actors` ids.
 */
import { connect } from 'nats';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { Histogram, cpuSeconds } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { createRawFloor } from '../raw-request-floor.js';
import { EVENT, KIND, PREFIX, RAW_ASK, RAW_ECHO, RAW_TELL, ackSubject, actorId, rawPackr } from './common.js';
import { CreditPump, readAck } from './flow.js';

const [url, shardsArg] = process.argv.slice(2) as [string, string];
const nc = await connect({ servers: url, name: 'bench-sender-raw' });
const bus = await createNatsBus({ prefix: PREFIX, servers: [url], name: 'bench-sender-ours' });
const client = new ActorClient(bus, { shards: Number(shardsArg), askTimeoutMs: 10_000 });
const floor = createRawFloor(nc, 'rawq._INBOX');
const pumps = { ours: new CreditPump(), raw: new CreditPump() };
for (const who of ['ours', 'raw'] as const) {
  nc.subscribe(ackSubject(who), { callback: (_e, m) => pumps[who].onAck(readAck(m.data)) });
}
await nc.flush();

type Impl = 'ours' | 'raw';
type AskImpl = 'ours' | 'floor' | 'rawactor';

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => actorId(i));
}

function teller(impl: Impl, n: number): (i: number) => void {
  const names = ids(n);
  if (impl === 'ours') {
    const addrs = names.map((id) => ({ kind: KIND, id }));
    return (i) => client.tell(addrs[i % n]!, EVENT);
  }
  const subjects = names.map((id) => `${RAW_TELL}.${id}`);
  return (i) => nc.publish(subjects[i % n]!, rawPackr.pack(EVENT));
}

function asker(impl: AskImpl, n: number): (i: number) => Promise<unknown> {
  const names = ids(n);
  if (impl === 'ours') {
    const addrs = names.map((id) => ({ kind: KIND, id }));
    return (i) => client.ask(addrs[i % n]!, EVENT);
  }
  if (impl === 'floor') return () => floor.request(RAW_ECHO, rawPackr.pack(EVENT));
  const subjects = names.map((id) => `${RAW_ASK}.${id}`);
  return (i) => floor.request(subjects[i % n]!, rawPackr.pack(EVENT));
}

/** `inflight` closed loops for `ms`, each sending its next request when its reply arrives. */
async function askRun(impl: AskImpl, inflight: number, ms: number, n: number) {
  const ask = asker(impl, n);
  const hist = new Histogram();
  let stop = false;
  let next = 0;
  let count = 0;
  const loop = async () => {
    while (!stop) {
      const t = performance.now();
      await ask(next++);
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
  return { count, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - cpu0, hist: hist.toJSON() };
}

await servePeer({
  commands: {
    /** Starts telling; `base` is the receiver's processed count now, so credit counts only this run. */
    start(a) {
      const impl = a.impl as Impl;
      pumps[impl].resync(Number(a.base));
      pumps[impl].start(teller(impl, Number(a.actors)), Number(a.credit));
      return {};
    },
    async stop(a) {
      const r = await pumps[a.impl as Impl].stop();
      await nc.flush();
      await bus.flush();
      return r;
    },
    ask: (a) => askRun(a.impl as AskImpl, Number(a.inflight), Number(a.ms), Number(a.actors)),
  },
  async close() {
    floor.close();
    await bus.close();
    await nc.close();
  },
});
