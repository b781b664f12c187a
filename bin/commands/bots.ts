/**
 * `gatehouse bots --count N`: N simulated hunters (lobby/bot.ts) on real client connections to a gateway. They log
 * in, spread over the servers, wander between cities, chat, relay positions at 2 Hz and form quest circles. Prints
 * progress every two seconds; Ctrl-C (or --duration) logs them all out and closes their connections.
 *
 *   gatehouse bots --count 200 [--url ws://127.0.0.1:7350 | --entry http://127.0.0.1:7380/entry] [--relay-hz 2]
 *                  [--id-prefix B] [--ramp 100] [--duration SECONDS] [--wander-s 40] [--chat-s 20] [--gates 40]
 */
import { Command } from 'commander';
import type { GatehouseClient } from '../../client/node.js';
import { GatehouseError } from '../../common/errors.js';
import type { LobbyBot } from '../../lobby/bot.js';
import { readSecretFile, signToken } from '../../gateway/auth/tokens.js';
import { withExamples } from '../cli-kit.js';

const USAGE = 'usage: gatehouse bots --count N [--url ws://host:port | --entry http://host:port/entry] [--token-key FILE] [--relay-hz 2] [--id-prefix B] [--ramp 100] [--duration S]';

function num(v: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new GatehouseError('USAGE', `--${name} must be a number from ${min} to ${max}\n${USAGE}`);
  return n;
}

type BotValues = Partial<Record<'count' | 'url' | 'entry' | 'relay-hz' | 'id-prefix' | 'ramp' | 'duration' | 'wander-s' | 'chat-s' | 'gates' | 'token-key', string>>;

export function botsCommand(): Command {
  const cmd = new Command('bots')
    .description('N simulated lobby players on real client connections: log in, wander cities, chat, relay, quest')
    .option('--count <n>', 'how many bots', '10')
    .option('--url <ws-url>', 'gateway WebSocket (default ws://127.0.0.1:7350)')
    .option('--entry <http-url>', "or the gateway's entry endpoint, e.g. http://127.0.0.1:7380/entry")
    .option('--token-key <file>', 'sign one token per bot with this key (gateway.auth.mode token)')
    .option('--relay-hz <hz>', 'position relays per second per bot', '2')
    .option('--id-prefix <p>', 'first 1-3 characters of the bots\' Capcom IDs', 'B')
    .option('--ramp <n>', 'bots started per second', '100')
    .option('--duration <s>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--wander-s <s>', 'seconds between moves', '40')
    .option('--chat-s <s>', 'seconds between chat lines', '20')
    .option('--gates <n>', 'gates per server to wander over', '40')
    .action(async (o: Record<string, string | undefined>) => {
      const values: BotValues = {};
      for (const [k, v] of Object.entries(o)) values[k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()) as keyof BotValues] = v;
      await runBotsWith(values);
    });
  return withExamples(cmd, [
    'gatehouse bots --count 200                       # against the local gateway of gatehouse start',
    'gatehouse bots --count 50 --entry http://127.0.0.1:7380/entry --duration 60',
    'gatehouse bots --count 20 --token-key dev.key    # a gateway in token mode',
  ]);
}

export async function runBots(argv: string[]): Promise<void> {
  await botsCommand().exitOverride().parseAsync(argv, { from: 'user' });
}

async function runBotsWith(values: BotValues): Promise<void> {
  // Loaded here, not with the program: every other command starts without the client and the bot.
  const { connect } = await import('../../client/node.js');
  const { botCapcomId, LobbyBot } = await import('../../lobby/bot.js');
  const count = num(values.count, 'count', 10, 1, 100_000);
  const prefix = values['id-prefix'] ?? 'B';
  if (!/^[0-9A-Z]{1,3}$/.test(prefix)) throw new GatehouseError('USAGE', '--id-prefix must be 1–3 characters 0-9 A-Z');
  const ramp = num(values.ramp, 'ramp', 100, 1, 10_000);
  const target = values.entry ? { entry: values.entry } : { url: values.url ?? 'ws://127.0.0.1:7350' };
  // Against a gateway in token mode (gateway.auth): each bot is its own account, owning its one Capcom ID.
  const secret = values['token-key'] ? await readSecretFile(values['token-key']) : undefined;
  const tokenFor = async (index: number) => {
    if (!secret) return undefined;
    const id = botCapcomId(prefix, index);
    return signToken(secret, { sub: `bot-${id}`, capcomIds: [id], ttlSec: 86_400 }, Date.now());
  };
  const latencies: number[] = [];
  const bots: Array<{ bot: LobbyBot; client: GatehouseClient }> = [];
  let failedLogins = 0;
  let stopping = false;

  const stopAll = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nstopping ${bots.length} bots (${why})…\n`);
    clearInterval(progress);
    await Promise.all(bots.map(async ({ bot, client }) => {
      await bot.stop();
      await client.close();
    }));
    report(true);
    process.exit(0);
  };
  process.once('SIGINT', () => void stopAll('Ctrl-C'));
  process.once('SIGTERM', () => void stopAll('SIGTERM'));
  if (values.duration) setTimeout(() => void stopAll('duration reached'), num(values.duration, 'duration', 60, 1, 86_400) * 1000).unref();

  let last = { t: performance.now(), sent: 0, recv: 0 };
  const report = (final = false) => {
    const s = bots.map((b) => b.bot.stats);
    const sum = (f: (x: (typeof s)[number]) => number) => s.reduce((a, x) => a + f(x), 0);
    const sent = sum((x) => x.relaysSent);
    const recv = sum((x) => x.relaysReceived);
    const t = performance.now();
    const secs = (t - last.t) / 1000;
    const sorted = latencies.splice(0).sort((a, b) => a - b);
    const p = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1) : '-');
    const errors: Record<string, number> = {};
    for (const x of s) for (const [k, v] of Object.entries(x.errors)) errors[k] = (errors[k] ?? 0) + v;
    const line =
      `${final ? 'final: ' : ''}${sum((x) => (x.loggedIn ? 1 : 0))}/${count} logged in, ${sum((x) => (x.loc.length === 3 ? 1 : 0))} in cities, ` +
      `servers ${new Set(s.filter((x) => x.loc.length).map((x) => x.loc[0])).size}, moves ${sum((x) => x.moves)}, cities made ${sum((x) => x.citiesCreated)}, ` +
      `circles ${sum((x) => x.circlesCreated)} (departed ${sum((x) => x.departures)}), chats ${sum((x) => x.chats)}, ` +
      `relays ${((sent - last.sent) / secs).toFixed(0)}/s out ${((recv - last.recv) / secs).toFixed(0)}/s in, relay p50 ${p(0.5)} ms p99 ${p(0.99)} ms` +
      (failedLogins ? `, ${failedLogins} logins failed` : '') +
      (Object.keys(errors).length ? `, refusals/errors ${JSON.stringify(errors)}` : '');
    last = { t, sent, recv };
    process.stdout.write(line + '\n');
  };
  const progress = setInterval(() => report(), 2000);

  process.stderr.write(`starting ${count} bots against ${target.url ?? target.entry} (${ramp}/s)\n`);
  for (let i = 0; i < count && !stopping; i++) {
    const index = i + 1;
    void (async () => {
      try {
        const token = await tokenFor(index);
        const client = await connect({ ...target, requestTimeoutMs: 15_000, client: 'gatehouse-bots', ...(token && { token }) });
        const bot = new LobbyBot(client, {
          index,
          idPrefix: prefix,
          relayHz: num(values['relay-hz'], 'relay-hz', 2, 0.1, 60),
          wanderMs: num(values['wander-s'], 'wander-s', 40, 1, 3600) * 1000,
          chatMs: num(values['chat-s'], 'chat-s', 20, 1, 3600) * 1000,
          gates: num(values.gates, 'gates', 40, 1, 99),
          onLatency: (ms) => latencies.length < 200_000 && latencies.push(ms),
        });
        bots.push({ bot, client });
        if (stopping) return;
        await bot.start();
      } catch (err) {
        failedLogins++;
        if (failedLogins <= 5) process.stderr.write(`bot ${index}: ${(err as Error).message}\n`);
      }
    })();
    await new Promise((r) => setTimeout(r, 1000 / ramp));
  }
}
