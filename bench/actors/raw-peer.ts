/**
 * The raw pipeline for bench actors, the baseline the node is measured against: `raw-peer.js <nats url>`.
 *
 *   rawp.<id>        nats.js callback → msgpackr unpack → XState `actor.send` into a Map of bare actors (created on
 *                    first message, as gatehouse activates on first message)
 *   rawq.echo        the raw request floor's responder: `m.respond(m.data)`, as in bench bus
 *   rawq.actor.<id>  reference only: unpack → send → pack the count → respond (what an actor request costs with
 *                    nothing of ours in it)
 * Nothing here is shared with gatehouse's runtime or bus: any wrapper would tax the baseline.
 */
import { connect, type Msg } from 'nats';
import type { AnyActor } from 'xstate';
import { cpuSeconds, sleep } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { RAW_ASK, RAW_ECHO, RAW_TELL, ackSubject, bareActor, rawPackr, rawUnpackr } from './common.js';
import { startAcker } from './flow.js';

const [url] = process.argv.slice(2) as [string];
const nc = await connect({ servers: url, name: 'bench-raw-pipeline' });
const ctl = await connect({ servers: url, name: 'bench-raw-ctl' });
const actors = new Map<string, AnyActor>();
let count = 0;

const actorFor = (id: string): AnyActor => {
  let a = actors.get(id);
  if (!a) actors.set(id, (a = bareActor()));
  return a;
};

const tellSkip = RAW_TELL.length + 1;
nc.subscribe(`${RAW_TELL}.*`, {
  callback: (_e, m: Msg) => {
    actorFor(m.subject.slice(tellSkip)).send(rawUnpackr.unpack(m.data));
    count++;
  },
});
nc.subscribe(RAW_ECHO, { callback: (_e, m) => m.respond(m.data) });
const askSkip = RAW_ASK.length + 1;
nc.subscribe(`${RAW_ASK}.*`, {
  callback: (_e, m) => {
    const a = actorFor(m.subject.slice(askSkip));
    a.send(rawUnpackr.unpack(m.data));
    count++;
    m.respond(rawPackr.pack({ ok: true, v: (a.getSnapshot() as { context: { count: number } }).context.count }));
  },
});
await nc.flush();
const stopAcker = startAcker(ctl, ackSubject('raw'), () => count);

await servePeer({
  commands: {
    async window(a) {
      const n0 = count;
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      await sleep(Number(a.ms));
      return { count: count - n0, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - cpu0 };
    },
    async quiet() {
      for (;;) {
        const n = count;
        await sleep(50);
        if (count === n) return { count: n, actors: actors.size };
      }
    },
  },
  async close() {
    stopAcker();
    await ctl.close();
    await nc.close();
  },
});
