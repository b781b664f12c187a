/**
 * bench hostile, attacker side: one process per attack, each from its own source address.
 *
 *   conns {url, n, localAddress, ms}           opens n sockets from one address and holds those admitted for ms
 *   reads {url, conns, n, localAddress, ms}    logs in `conns` throw-away players, then reads up to n never-seen
 *                                              Capcom ids (lobby.profile.get) spread over them at the rate limit,
 *                                              for ms from the start at most
 *   relays {url, conns, perSecond, ms, localAddress, layer}  players in one layer relaying maximum-size payloads
 *   burn {ms, cores}                           the control: no connection at all, only `cores` of CPU burnt on the
 *                                              same host (what the attackers' own processes take from the server)
 */
import { servePeer } from '../harness/peer-protocol.js';
import { openClient, paced, type WireClient } from './wire-client.js';
import { LOBBY_DEFAULTS } from '../../lobby/index.js';

const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Hostile windows so far: the unknown ids read differ from window to window. */
let windowNo = 0;
/** A Capcom ID (6 characters 0-9 A-Z) from a number: distinct per n. */
const cid = (prefix: string, n: number) => {
  let s = '';
  for (let i = 0; i < 6 - prefix.length; i++, n = Math.floor(n / 36)) s = ALPHA[n % 36] + s;
  return prefix + s;
};

/**
 * `conns` players logged in from `localAddress`. The same Capcom IDs every window, as a script limited to
 * lobby.newPlayersPerAddressPerMinute new records would do (the server applies it to loopback here); each window
 * ends with a logout (`leave`), so the IDs are free again for the next one.
 */
async function players(url: string, localAddress: string, conns: number, prefix: string): Promise<WireClient[]> {
  const out: WireClient[] = [];
  const codes: Record<string, number> = {};
  for (let i = 0; i < conns; i++) {
    const c = await openClient(url, localAddress);
    if (!c) continue;
    const r = await c.request('lobby.login', { capcomId: cid(prefix, i), name: `bench${i}`, hr: 5 });
    if (r.ok) out.push(c);
    else {
      codes[r.code!] = (codes[r.code!] ?? 0) + 1;
      c.close();
    }
  }
  if (out.length < conns) process.stderr.write(`[attack ${prefix}] ${out.length} of ${conns} players logged in; refused ${JSON.stringify(codes)}\n`);
  return out;
}

/** Logs the players out (retrying while the address's budget refuses) and closes them. */
async function leave(cs: WireClient[]): Promise<void> {
  await Promise.all(
    cs.map(async (c) => {
      for (let i = 0; i < 50; i++) {
        const r = await c.request('lobby.logout');
        if (r.ok || r.code !== 'RATE_LIMITED') break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }),
  );
  cs.forEach((c) => c.close());
}

await servePeer({
  commands: {
    async conns({ url, n, localAddress, ms }) {
      const t = { start: Date.now(), in: 0, out: 0 };
      const opened = await Promise.all(Array.from({ length: n as number }, () => openClient(url as string, localAddress as string)));
      const held = opened.filter((c): c is WireClient => c !== undefined);
      t.in = Date.now();
      await new Promise((r) => setTimeout(r, ms as number));
      held.forEach((c) => c.close());
      t.out = Date.now();
      return { admitted: held.length, refused: (n as number) - held.length, t };
    },
    async reads({ url, conns, n, localAddress, ms }) {
      const t = { start: Date.now(), in: 0, read: 0, out: 0 };
      const cs = await players(url as string, localAddress as string, conns as number, 'R');
      t.in = Date.now();
      const codes: Record<string, number> = {};
      const perConn = Math.ceil((n as number) / Math.max(1, cs.length));
      const t0 = performance.now();
      await Promise.all(
        cs.map((c, k) =>
          paced(LOBBY_READ_RATE, Math.max(0, (ms as number) - (Date.now() - t.start)), async (i) => {
            const r = await c.request('lobby.profile.get', { id: cid('U', (windowNo * cs.length + k) * perConn + i) });
            const code = r.ok ? 'OK' : r.code!;
            codes[code] = (codes[code] ?? 0) + 1;
          }, perConn),
        ),
      );
      t.read = Date.now();
      await leave(cs);
      t.out = Date.now();
      windowNo++;
      return { players: cs.length, seconds: (performance.now() - t0) / 1000, codes, t };
    },
    async burn({ ms, cores }) {
      const slice = 10;
      const end = performance.now() + (ms as number);
      while (performance.now() < end) {
        const spin = performance.now() + slice * (cores as number);
        while (performance.now() < spin);
        await new Promise((r) => setTimeout(r, slice * (1 - (cores as number))));
      }
      return {};
    },
    async relays({ url, conns, perSecond, ms, localAddress, layer }) {
      const t = { start: Date.now(), in: 0, relayed: 0, out: 0 };
      const cs = await players(url as string, localAddress as string, conns as number, 'L');
      for (const c of cs) await c.request('lobby.enter', { layer });
      t.in = Date.now();
      const d = new Uint8Array(LOBBY_DEFAULTS.relayMaxBytes - 3).fill(1); // encodes to exactly the cap
      const codes: Record<string, number> = {};
      await Promise.all(
        cs.map((c) =>
          paced(perSecond as number, ms as number, async () => {
            const r = await c.request('lobby.relay', { d });
            const code = r.ok ? 'OK' : r.code!;
            codes[code] = (codes[code] ?? 0) + 1;
          }),
        ),
      );
      const pushes = cs.reduce((s, c) => s + c.pushes, 0);
      t.relayed = Date.now();
      await leave(cs);
      t.out = Date.now();
      return { players: cs.length, codes, pushes, t };
    },
  },
});

/** Reads per second per connection: the gateway's default rate limit. */
const LOBBY_READ_RATE = 50;
