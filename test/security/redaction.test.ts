/**
 * Attack: reading a session's ticket secret through an operations tool. `inspect session/<id>` printed the secret,
 * and `<session id>.<secret>` then resumed the victim's session. A kind now declares the fields no tool may show
 * (`defineKind({redact})`; the session kind: `secret`, `next`): `$inspect`, `gatehouse tail` of its inbox and traces
 * show '[redacted]' or nothing. Over NATS the `ops` user cannot even subscribe to the session inboxes, the snapshot
 * bucket or others' replies (test/security/nats-permissions.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { ActorHost } from '../../actors/runtime/host.js';
import { REDACTED, redactFields } from '../../actors/runtime/turn-views.js';
import { sessionKind } from '../../actors/session/session.js';
import { formatMessage, redactionsOf, tail } from '../../bin/commands/tail.js';
import type { Bus } from '../../bus/bus.js';
import { encode } from '../../bus/codec.js';
import { ManualClock } from '../../common/clock.js';
import { eventually } from '../../dev/wait.js';
import { memoryImpl, type Env } from '../support/impls.js';
import { startHost, TEST_LIMITS } from '../support/hosts.js';

const SECRET = 'victim-secret-AAAA';
const NEXT = 'victim-next-BBBB';
const conn = { gw: 'g1', id: 'c1' };

describe('secrets never leave through ops tools (security)', () => {
  let env: Env;
  let host: ActorHost;
  let client: ActorClient;
  let tool: Bus;
  beforeAll(async () => {
    env = await memoryImpl.setup();
    host = await startHost(env, { kinds: [sessionKind], clock: new ManualClock(), prefix: 'rd' });
    client = new ActorClient(await env.connect('rd'), { shards: TEST_LIMITS.shards, askTimeoutMs: 2000 });
    tool = await env.connect('rd');
  });
  afterAll(async () => {
    await host?.stop();
    await env?.teardown();
  });

  it('inspect and tail of a session show [redacted], never the ticket secret', async () => {
    const lines: string[] = [];
    const stopInbox = tail(tool, 'session.>', (l) => lines.push(l), redactionsOf([sessionKind]));
    const stopTrace = tail(tool, 'trace.>', (l) => lines.push(l), redactionsOf([sessionKind]));
    await tool.flush();
    const s = { kind: 'session', id: 'sess-1' };
    await client.ask(s, { type: 'create', secret: SECRET, conn, graceMs: 60_000, checkMs: 60_000 });
    await client.ask(s, { type: 'resume', secret: SECRET, next: NEXT, conn });
    const view = await client.ask<{ context: Record<string, unknown> }>(s, { type: '$inspect' });
    expect(view.context.secret).toBe(REDACTED);
    expect(view.context.id).toBe('sess-1');
    await eventually(() => (lines.filter((l) => l.includes('"session.')).length >= 3 ? true : undefined), { what: 'tail saw the messages' });
    stopInbox();
    stopTrace();
    const all = JSON.stringify(view) + lines.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(NEXT);
    const resume = lines.find((l) => l.includes('"resume"'))!;
    expect(JSON.parse(resume).data.m).toMatchObject({ type: 'resume', secret: REDACTED, next: REDACTED, conn });
    // The redacted inspect still works as a resume check: the real secret is in the actor, unchanged.
    await expect(client.ask(s, { type: 'resume', secret: NEXT, next: 'third', conn })).resolves.toBeTruthy();
  });

  it('hand-over chunks (whole actor images) are never decoded by tail', () => {
    const line = JSON.parse(formatMessage('sys.ho.n2.m1', encode({ images: [{ secret: SECRET }] })));
    expect(line.data).toMatch(/hand-over images: \d+ bytes, not shown/);
  });

  it('redaction is by field name at any depth, bounded, and copies (the live context is untouched)', () => {
    const ctx = { a: { secret: 1, list: [{ next: 2, keep: 3 }] }, secret: 'x' };
    expect(redactFields(ctx, ['secret', 'next'])).toEqual({ a: { secret: REDACTED, list: [{ next: REDACTED, keep: 3 }] }, secret: REDACTED });
    expect(ctx.secret).toBe('x');
    let deep: Record<string, unknown> = { secret: 's' };
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(JSON.stringify(redactFields(deep, ['secret']))).not.toContain('"s"');
    expect(redactFields(ctx, undefined)).toBe(ctx);
  });
});
