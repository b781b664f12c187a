/**
 * Attack: a hostile or compromised bus user. With the documented `nats-server -js` (no auth) any NATS user could drain
 * a node, read a session's ticket secret, publish into actors and poison their dedupe marks. Here the nats-server runs
 * the users `gatehouse nats-config` generates (one account, JetStream on): worker and gateway nodes serve a chat flow
 * end to end with their users; the ops user can read status, tail and inspect (redacted) but cannot drain, move,
 * publish into an actor, or read secrets (session inboxes, snapshots, others' replies); the admin user can move and
 * drain, and still cannot publish into actors. Real nats-server and node processes (dist/), stopped in teardown.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReply, encodeEnvelope } from '../../actors/runtime/envelope.js';
import { tail } from '../../bin/commands/tail.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { shardOf, subjects, TOOL_INBOX } from '../../bus/subjects.js';
import { encode } from '../../bus/codec.js';
import { connect, type GatehouseClient } from '../../client/node.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { runCli, startNodeProcess, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';

const PREFIX = 'sec';
const PASSWORDS = { worker: 'w-pass-1', gateway: 'g-pass-2', ops: 'o-pass-3', admin: 'a-pass-4' } as const;
type Role = keyof typeof PASSWORDS;
const creds = (role: Role) => ['--set', `nats.user=${PREFIX}-${role}`, '--set', `nats.pass=${PASSWORDS[role]}`];
const GATEWAY_FLAGS = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]);

describe('least-privilege NATS users (security)', { timeout: 120_000 }, () => {
  let dir: string;
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  const buses: Bus[] = [];
  const clients: GatehouseClient[] = [];
  let gatewayUrl: string;
  let natsConfig: string;

  const cli = async (role: Role, args: string[]) => {
    const p = runCli([...args, '--nats', nats.url, '--prefix', PREFIX, '--set', 'actors.shards=16', ...creds(role)]);
    procs.push(p);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const toolBus = async (role: Role) => {
    const b = await createNatsBus({ prefix: PREFIX, servers: [nats.url], user: `${PREFIX}-${role}`, pass: PASSWORDS[role], inbox: TOOL_INBOX });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-natsperm-'));
    const pwFile = join(dir, 'passwords');
    await writeFile(pwFile, Object.entries(PASSWORDS).map(([r, p]) => `${r}: ${p}`).join('\n') + '\n');
    const gen = runCli(['nats-config', '--prefix', PREFIX, '--account', 'SEC', '--password-file', pwFile]);
    procs.push(gen);
    expect(await gen.exited).toBe(0);
    natsConfig = gen.output();
    nats = await startNatsServer({ config: natsConfig });
    const [w1, g1] = await Promise.all([
      startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'w1', roles: 'worker', extra: creds('worker') }),
      startNodeProcess({ natsUrl: nats.url, prefix: PREFIX, id: 'g1', roles: 'gateway', extra: [...creds('gateway'), ...GATEWAY_FLAGS] }),
    ]);
    procs.push(w1!, g1!);
    gatewayUrl = /(ws:\/\/\S+)/.exec(await g1!.waitFor(/native ws\s+ws:\/\//))![1]!;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function chatter(name: string): Promise<{ c: GatehouseClient; heard: string[] }> {
    const c = await connect({ url: gatewayUrl, requestTimeoutMs: 10_000 });
    clients.push(c);
    const heard: string[] = [];
    c.on('onChat', (b) => heard.push((b as { msg: string }).msg));
    await eventually(() => c.request('chat.enter', { name, room: 'hall' }).catch(() => undefined), { timeoutMs: 30_000, what: `${name} enters` });
    return { c, heard };
  }

  it('the generated config has one user per role, with allow_responses for nodes only', () => {
    for (const role of Object.keys(PASSWORDS)) expect(natsConfig).toContain(`user: "${PREFIX}-${role}"`);
    expect(natsConfig.match(/allow_responses: true/g)?.length).toBe(2);
    expect(natsConfig).toContain('"$JS.API.STREAM.INFO.KV_sec_nodes"');
  });

  it('worker and gateway nodes serve a chat flow end to end with their own users', async () => {
    const ann = await chatter('ann');
    const ben = await chatter('ben');
    await ann.c.request('chat.send', { content: 'hi all', target: '*' });
    await eventually(() => (ben.heard.includes('hi all') ? true : undefined), { what: 'ben hears ann' });
  });

  it('ops: status works; drain and move are refused with PERMISSION_DENIED; the node keeps serving', async () => {
    const status = await cli('ops', ['status']);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/w1\s+worker/);
    const drain = await cli('ops', ['drain', 'w1', '--timeout', '10']);
    expect(drain.code).toBe(1);
    expect(drain.out).toMatch(/PERMISSION_DENIED/);
    expect(drain.out).toMatch(/sec\.sys\.ctl\.w1/);
    const move = await cli('ops', ['move', 'chat-room:0', '--to', 'w1', '--timeout', '10']);
    expect(move.code).toBe(1);
    expect(move.out).toMatch(/PERMISSION_DENIED/);
    const after = await cli('ops', ['status']);
    expect(after.out).not.toMatch(/draining/);
  });

  it('ops: inspect of a session shows [redacted], never its ticket secret', async () => {
    const { c } = await chatter('cat');
    const [session, secret] = c.ticket!.split('.');
    const out = await cli('ops', ['inspect', `session/${session}`]);
    expect(out.code).toBe(0);
    expect(out.out).toContain('[redacted]');
    expect(out.out).not.toContain(secret!);
  });

  it('ops: cannot publish into an actor (no message, no forged dedupe mark), cannot drain over the raw bus', async () => {
    const ops = await toolBus('ops');
    const room = subjects.actor('chat-room', shardOf('hall', 16), 'hall');
    await expect(ops.request(room, encodeEnvelope({ m: { type: 'leave', name: 'ann' }, s: 'forged', q: Number.MAX_SAFE_INTEGER }), { timeoutMs: 5000 }))
      .rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(ops.request(subjects.sys('ctl', 'w1'), encode({ type: 'drain' }), { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    // The read-only subject answers read-only requests only.
    const viaInfo = decodeReply((await ops.request(subjects.sys('info', 'w1'), encode({ type: 'drain' }), { timeoutMs: 5000 })).data);
    expect(viaInfo).toMatchObject({ ok: false, e: { code: 'BAD_MESSAGE' } });
  });

  it('ops: tail of everything sees traffic and traces, never session inboxes, replies or snapshots', async () => {
    const ops = await toolBus('ops');
    const lines: string[] = [];
    const stop = tail(ops, '>', (l) => lines.push(l));
    const traces: string[] = [];
    const stopTrace = tail(ops, 'trace.>', (l) => traces.push(l));
    await ops.flush();
    const dan = await chatter('dan');
    await dan.c.request('chat.send', { content: 'seen by ops', target: '*' });
    await eventually(() => (lines.some((l) => l.includes('seen by ops')) ? true : undefined), { what: 'ops tail sees the chat' });
    await eventually(() => (traces.length > 0 ? true : undefined), { what: 'ops tail sees traces' });
    stop();
    stopTrace();
    // Asking for the session inboxes outright is refused, and tail says so.
    const refused: string[] = [];
    const stopSessions = tail(ops, 'session.>', (l) => lines.push(l), undefined, (e) => refused.push(e));
    await eventually(() => (refused.some((e) => e.includes('may not subscribe to sec.session.>')) ? true : undefined), { what: 'refusal reported' });
    stopSessions();
    const secret = dan.c.ticket!.split('.')[1]!;
    const all = lines.join('\n') + traces.join('\n');
    expect(all).not.toContain(secret);
    expect(lines.filter((l) => /"subject":"(session\.|_INBOX\.|sys\.ho)/.test(l))).toEqual([]);
    // The snapshot bucket is out of reach.
    const store = createNatsStore({ connection: (ops as Bus & { connection: never }).connection, prefix: PREFIX });
    await expect(store.bucket('actors')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('admin: move and drain work; publishing into actors is still refused', async () => {
    const admin = await toolBus('admin');
    await expect(admin.request(subjects.actor('chat-room', shardOf('hall', 16), 'hall'), encodeEnvelope({ m: { type: 'x' }, s: 'a', q: 1 }), { timeoutMs: 5000 }))
      .rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const move = await cli('admin', ['move', 'chat-room:0', '--to', 'w1', '--timeout', '30']);
    expect(move.out).toMatch(/chat-room\.0 is on w1/);
    expect(move.code).toBe(0);
    const drain = await cli('admin', ['drain', 'g1', '--timeout', '30']);
    expect(drain.out).toMatch(/g1 drained and left the cluster/);
    expect(drain.code).toBe(0);
  });
});
