/**
 * The CLI explains itself (issue 18): every command in the top-level help and with its own `--help` and examples;
 * unknown flags and commands named (exit 2); a taken port named by its config key; `spawn` says why a child left;
 * tail's lines (ISO times, state names, no empty from/to). Processes are the compiled CLI (dev/procs.ts).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type Proc } from '../../dev/procs.js';
import { encode } from '../../bus/codec.js';
import { messageRecord, stateName, textLine } from '../../bin/commands/tail.js';
import { metricsPortOf, portBaseSets } from '../../config/ports.js';
import { loadConfig } from '../../config/load.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { addCommand, buildProgram, passthrough } from '../../bin/program.js';

const COMMANDS = ['start', 'node', 'spawn', 'init', 'status', 'drain', 'move', 'export', 'import', 'nats-config', 'token', 'tail', 'inspect', 'tell', 'ask', 'bots'];

describe('gatehouse CLI help and errors', { timeout: 120_000 }, () => {
  const procs: Proc[] = [];
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const p = runCli(args);
    procs.push(p);
    const code = await p.exited;
    return { code, out: p.output() };
  }

  it('lists every command in the top-level help', async () => {
    for (const args of [['--help'], ['help'], []]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.out, `${c} in ${args.join(' ')}`).toMatch(new RegExp(`^\\s+${c} `, 'm'));
    }
  });

  it('gives every command its own --help with examples', async () => {
    // In process (the program as the CLI builds it): sixteen more processes would take a minute on a loaded host.
    const program = buildProgram();
    const help = (c: string) => {
      let out = '';
      const cmd = program.commands.find((x) => x.name() === c)!;
      cmd.configureOutput({ writeOut: (s) => void (out += s) });
      cmd.outputHelp();
      return out;
    };
    expect(program.commands.map((c) => c.name())).toEqual(expect.arrayContaining(COMMANDS));
    for (const c of COMMANDS) {
      expect(help(c), c).toContain(`Usage: gatehouse ${c}`);
      expect(help(c), c).toMatch(/Examples:\n {2}\$ gatehouse /);
    }
    for (const flag of ['--config', '--prefix', '--nats', '--data', '--roles', '--threads', '--log-level', '--log-format', '--set', '--app', '--port-base']) expect(help('start')).toContain(flag);
    expect(help('move')).toContain('--unpin');
    // And as a process: `bots --help` was "Unknown option '--help'" before.
    const bots = await cli(['bots', '--help']);
    expect(bots.code).toBe(0);
    expect(bots.out).toMatch(/Usage: gatehouse bots[\s\S]*--count <n>[\s\S]*Examples:/);
  });

  it('registers a command that parses its own arguments in one line (record, replay, top)', async () => {
    const program = buildProgram();
    let got: string[] = [];
    addCommand(program, passthrough('echo', 'hands its arguments on', '<kind>/<id> [--for 60s]', async () => async (argv) => void (got = argv)));
    let help = '';
    program.configureOutput({ writeOut: (s) => void (help += s) });
    program.outputHelp();
    expect(help).toMatch(/^ {2}echo <kind>\/<id> \[--for 60s\]\s+hands its arguments on$/m);
    await program.parseAsync(['echo', 'room/a', '--for', '60s', '--help'], { from: 'user' });
    expect(got).toEqual(['room/a', '--for', '60s', '--help']);
  });

  it('names unknown flags and commands, missing arguments and bad values, with exit code 2', async () => {
    const flag = await cli(['start', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.out).toMatch(/gatehouse: unknown option '--bogus'/);
    const near = await cli(['status', '--nat', 'nats://127.0.0.1:4222']);
    expect(near.code).toBe(2);
    expect(near.out).toMatch(/unknown option '--nat'[\s\S]*Did you mean --nats\?/);
    const botsFlag = await cli(['bots', '--counts', '3']);
    expect(botsFlag.code).toBe(2);
    expect(botsFlag.out).toMatch(/unknown option '--counts'/);
    const command = await cli(['stauts']);
    expect(command.code).toBe(2);
    expect(command.out).toMatch(/unknown command 'stauts'[\s\S]*Did you mean status\?/);
    const missing = await cli(['inspect']);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/missing required argument 'actor'/);
    const badActor = await cli(['inspect', 'no-slash']);
    expect(badActor.code).toBe(2);
    expect(badActor.out).toMatch(/expected <kind>\/<id>, got "no-slash"/);
    const badBase = await cli(['start', '--port-base', '80']);
    expect(badBase.code).toBe(1);
    expect(badBase.out).toMatch(/--port-base must be a whole number from 1024/);
    const badFormat = await cli(['start', '--log-format', 'xml']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.out).toMatch(/--log-format.*xml.*Allowed choices are auto, pretty, json/s);
    const unpinBoth = await cli(['move', 'ledger:1', '--to', 'n1', '--unpin', '--nats', 'nats://127.0.0.1:1']);
    expect(unpinBoth.code).toBe(2);
    expect(unpinBoth.out).toMatch(/either --to <node-id> .* or --unpin, not both/);
  });

  it('names the config key of a port already in use', async () => {
    // A base whose six ports are free now; then this test holds the HTTP one (base + 4).
    const base = await freeBase();
    const held = createServer();
    servers.push(held);
    await new Promise<void>((r) => held.listen(base + 4, '127.0.0.1', () => r()));
    const r = await cli(['start', '--set', 'store.kind=memory', '--port-base', String(base)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`gateway.httpPort ${base + 4} is in use (set --set gateway.httpPort=N or --port-base N`);
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('spawn says when and why a child exits, with its last lines', async () => {
    const r = await cli(['spawn', '--count', '1', '--nats', 'nats://127.0.0.1:1', '--app', './no/such/app.js', '--set', 'metrics.port=0']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/node process 1\/1 \(pid \d+\) exited with code 1 after [\d.]+ s at \d{4}-\d\d-\d\dT[\d:.]+Z \(unexpectedly\); its last lines:\n {4}.*cannot load \.\/no\/such\/app\.js/);
    expect(r.out).toContain('all 1 node processes have exited (0 cleanly)');
  });

  it('port-base places every port from one number', () => {
    expect(portBaseSets('9000')).toEqual([
      'gateway.wsPort=9000',
      'gateway.tcpPort=9001',
      'gateway.pomeloWsPort=9002',
      'gateway.pomeloTcpPort=9003',
      'gateway.httpPort=9004',
      'metrics.port=9005',
    ]);
    expect(portBaseSets(undefined)).toEqual([]);
    const config = loadConfig({ flags: { set: portBaseSets('9000') } });
    expect([0, 1, 2].map((i) => metricsPortOf(config, i))).toEqual([9006, 9007, 9008]);
    expect(metricsPortOf(loadConfig({ flags: { set: ['metrics.port=0'] } }), 3)).toBe(0);
  });

  it('gives worker threads their own metrics ports after the base', async () => {
    const nats: NatsServerHandle = await startNatsServer();
    try {
      const base = await freeBase(8);
      // Worker threads only (the main thread keeps no role): the threads' endpoints are base+6 and base+7.
      const p = runCli(['node', '--nats', nats.url, '--prefix', 'ports', '--roles', 'worker', '--threads', '2', '--node-id', 'pb', '--port-base', String(base), '--set', 'node.builtinApps=demo', '--log-level', 'error']);
      procs.push(p);
      await p.waitFor(/stop with Ctrl-C/, 60_000);
      const ids = await Promise.all([6, 7].map(async (i) => ((await (await fetch(`http://127.0.0.1:${base + i}/status`)).json()) as { node: string }).node));
      expect(ids).toEqual(['pb-t0', 'pb-t1']);
      await p.kill('SIGTERM');
    } finally {
      await nats.stop();
    }
  });

  it("tail's lines: ISO times, state names, event types, compact bodies", () => {
    expect(stateName('open')).toBe('open');
    expect(stateName({ playing: 'turn' })).toBe('playing.turn');
    expect(stateName({ a: 'x', b: { c: 'y' } })).toBe('a.x,b.c.y');
    expect(stateName({})).toBeUndefined();
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    // A stateless kind (a chat room's value is {}): no "from":{},"to":{}.
    const room = messageRecord('trace.chat-room.lobby', encode({ kind: 'chat-room', id: 'lobby', node: 'n1', event: 'say', from: {}, to: {}, at }), undefined, undefined, undefined, at + 1);
    expect(room).toEqual({ time: '2026-01-02T03:04:05.007Z', subject: 'trace.chat-room.lobby', data: { kind: 'chat-room', id: 'lobby', node: 'n1', event: 'say', at: '2026-01-02T03:04:05.006Z' } });
    expect(JSON.stringify(room)).not.toContain('{}');
    expect(textLine(room)).toBe('2026-01-02T03:04:05.007Z  trace chat-room/lobby  say  on n1');
    const machine = messageRecord('trace.lobby-city.c1', encode({ kind: 'lobby-city', id: 'c1', node: 'n2', event: 'open', from: 'reserved', to: { open: 'idle' }, at }), undefined, undefined, undefined, at);
    expect(textLine(machine)).toBe('2026-01-02T03:04:05.006Z  trace lobby-city/c1  open  reserved → open.idle  on n2');
    const tell = messageRecord('ledger.3.acct-1', encode({ m: { type: 'inc', from: 'cli', n: 0 }, s: 'S1', q: 7 }), undefined, undefined, undefined, at);
    expect(textLine(tell)).toBe('2026-01-02T03:04:05.006Z  ledger/acct-1  tell {"type":"inc","from":"cli","n":0}  from S1 #7');
    const long = textLine(messageRecord('ledger.3.acct-1', encode({ m: { type: 'x', pad: 'y'.repeat(1000) } }), 'inbox.1', undefined, undefined, at));
    expect(long).toMatch(/ask \{"type":"x".*… \(\d+ chars\)$/);
    expect(long.length).toBeLessThan(500);
  });
});

/** A base port whose `span` ports are all free at the moment (bound and released; the kernel does not hand them out again at once). */
async function freeBase(span = 6): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const servers: Server[] = [];
    try {
      for (let i = 0; i < span; i++) {
        const s = createServer();
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + i, '127.0.0.1', () => resolve());
        });
        servers.push(s);
      }
      return base;
    } catch {
      // taken: try another
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error('no free run of six ports found');
}
