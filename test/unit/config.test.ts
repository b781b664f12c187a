import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig as loadCore, readSection, type ConfigSources } from '../../config/index.js';
import { ConfigError } from '../../common/errors.js';
import { lobbyConfig } from '../../lobby/config.js';
import { BUILTIN_CONFIG_SECTIONS, defaultApps } from '../../server/apps.js';

/** As a node loads it: the core plus the built-in apps' sections (the lobby's). */
const loadConfig = (src: ConfigSources = {}) => loadCore({ ...src, sections: BUILTIN_CONFIG_SECTIONS });
const lobbyOf = (c: ReturnType<typeof loadConfig>) => readSection(c, lobbyConfig);

function file(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
  const p = join(dir, 'gatehouse.json');
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('gives frozen documented defaults: embedded mode, prefix gh', () => {
    const c = loadConfig();
    expect(c.bus.kind).toBe('memory');
    expect(c.prefix).toBe('gh');
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.gateway)).toBe(true);
    expect(() => ((DEFAULTS as { prefix: string }).prefix = 'x')).toThrow();
  });

  it('layers file < env < flags < overrides', () => {
    const f = file({ prefix: 'fromfile', log: { level: 'warn' }, gateway: { wsPort: 1111, tcpPort: 2222 } });
    const c = loadConfig({
      file: f,
      env: { GATEHOUSE_PREFIX: 'fromenv', GATEHOUSE_GATEWAY_WS_PORT: '3333', PATH: '/bin' },
      flags: { prefix: 'fromflag', set: ['gateway.tcpPort=4444'] },
    });
    expect(c.prefix).toBe('fromflag');
    expect(c.gateway.wsPort).toBe(3333);
    expect(c.gateway.tcpPort).toBe(4444);
    expect(c.log.level).toBe('warn');
    expect(c.gateway.pomeloWsPort).toBe(DEFAULTS.gateway.pomeloWsPort);
  });

  it('--nats switches to the NATS bus and takes a comma list of servers', () => {
    const c = loadConfig({ flags: { nats: 'nats://127.0.0.1:4222,nats://127.0.0.1:4223', roles: 'worker' } });
    expect(c.bus.kind).toBe('nats');
    expect(c.nats.servers).toEqual(['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223']);
    expect(c.node.roles).toEqual(['worker']);
  });

  it('names an unknown field in a file, with a suggestion and the allowed fields', () => {
    const f = file({ gatway: { wsPort: 1 } });
    const e = errorOf(() => loadConfig({ file: f }));
    expect(e.message).toContain('unknown field "gatway" (did you mean "gateway"?)');
    expect(e.message).toContain('allowed: prefix, node, bus');
    expect(e.fields).toContain('gatway');
  });

  it('names an unknown nested field', () => {
    const e = errorOf(() => loadConfig({ overrides: { gateway: { wsport: 1 } as never } }));
    expect(e.message).toContain('gateway.wsport');
    expect(e.message).toContain('did you mean "wsPort"?');
  });

  it('names a field of the wrong type and where the value came from', () => {
    const e = errorOf(() => loadConfig({ env: { GATEHOUSE_GATEWAY_WS_PORT: 'eighty' } }));
    expect(e.message).toContain('gateway.wsPort (from env GATEHOUSE_GATEWAY_WS_PORT): expected number, got string "eighty"');
    expect(e.fields).toEqual(['gateway.wsPort']);
  });

  it('lists the allowed values of an enum', () => {
    const e = errorOf(() => loadConfig({ flags: { 'log-level': 'loud' } }));
    expect(e.message).toContain('log.level (from flag --log-level): expected one of fatal, error, warn, info, debug, trace, silent; got "loud"');
  });

  it('rejects a bad NATS URL, naming which entry', () => {
    const e = errorOf(() => loadConfig({ flags: { nats: 'nats://ok:4222,http://nope' } }));
    expect(e.message).toContain('nats.servers.1 (from flag --nats)');
    expect(e.message).toContain('expected a NATS URL');
    expect(e.message).toContain('"http://nope"');
  });

  it('rejects a bad prefix, out-of-range numbers and unknown env variables', () => {
    expect(errorOf(() => loadConfig({ flags: { prefix: 'a.b' } })).message).toContain('prefix (from flag --prefix): expected one subject token');
    expect(errorOf(() => loadConfig({ flags: { set: ['gateway.wsPort=70000'] } })).message).toContain('gateway.wsPort');
    const e = errorOf(() => loadConfig({ env: { GATEHOUSE_NOPE: '1' } }));
    expect(e.message).toContain('environment variable GATEHOUSE_NOPE: no such setting');
    expect(errorOf(() => loadConfig({ flags: { set: ['nope.x=1'] } })).message).toContain('--set nope.x=1: no such setting');
  });

  it('reports unreadable and malformed files with their path', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/gh.json' })).message).toContain('cannot read config file /nonexistent/gh.json');
    const f = file('{ "prefix": ');
    expect(errorOf(() => loadConfig({ file: f })).message).toContain(`config file ${f} is not valid JSON`);
  });

  it('reports every problem at once', () => {
    const e = errorOf(() => loadConfig({ overrides: { prefix: '', log: { level: 'x' as never } } }));
    expect(e.fields).toEqual(expect.arrayContaining(['prefix', 'log.level']));
  });

  it('has a lobby tree modelled on MH3: 12 servers of 4 types, 40 gates of 100, 40 cities of 4, 4 circles', () => {
    const l = lobbyOf(loadConfig());
    expect(l.servers).toHaveLength(12);
    expect(new Set(l.servers)).toEqual(new Set(['Open', 'Rookie', 'Expert', 'Recruiting']));
    expect([l.serverCapacity, l.gatesPerServer, l.gateCapacity, l.citiesPerGate, l.cityCapacity, l.circlesPerCity]).toEqual([2000, 40, 100, 40, 4, 4]);
    expect(l.hr.Rookie.max).toBe(30);
    expect(l.hr.Expert.min).toBe(31);
    expect(l.reservationMs).toBe(40_000);
  });

  it('takes the lobby tree from env and flags, and names bad lobby fields', () => {
    const c = loadConfig({ env: { GATEHOUSE_LOBBY_SERVERS: 'Open,Expert', GATEHOUSE_LOBBY_HR_ROOKIE_MAX: '20' }, flags: { set: ['lobby.refreshMs=2000'] } });
    expect(lobbyOf(c).servers).toEqual(['Open', 'Expert']);
    expect(lobbyOf(c).hr.Rookie.max).toBe(20);
    expect(lobbyOf(c).refreshMs).toBe(2000);
    expect(errorOf(() => loadConfig({ env: { GATEHOUSE_LOBBY_SERVERS: 'Open,Casual' } })).message).toContain('lobby.servers.1');
    expect(errorOf(() => loadConfig({ flags: { set: ['lobby.hr.Expert.min=1000'] } })).fields).toContain('lobby.hr.Expert.min');
  });

  it('takes gateway processes and extra app modules from flags and env, and names bad values', () => {
    const d = loadConfig();
    expect(d.gateway.procs).toBe(1);
    expect(d.node.apps).toEqual([]);
    const c = loadConfig({ flags: { 'gateway-procs': '3', app: ['./a.js', './b.js'] } });
    expect(c.gateway.procs).toBe(3);
    expect(c.node.apps).toEqual(['./a.js', './b.js']);
    const e = loadConfig({ env: { GATEHOUSE_NODE_APPS: 'x.js,y.js', GATEHOUSE_GATEWAY_PROCS: '2' } });
    expect([e.node.apps, e.gateway.procs]).toEqual([['x.js', 'y.js'], 2]);
    expect(errorOf(() => loadConfig({ flags: { 'gateway-procs': '0' } })).fields).toContain('gateway.procs');
    expect(errorOf(() => loadConfig({ flags: { set: ['gateway.procs=1.5'] } })).message).toContain('--set gateway.procs=1.5');
  });

  it('takes live-migration settings from a file, env or --set, and names bad ones', () => {
    expect(loadConfig().cluster.migration).toEqual({ probeTimeoutMs: 5000, handoverTimeoutMs: 30_000, chunkBytes: 262_144, handoverWindowActors: 200, ackWaitMs: 1000 });
    const c = loadConfig({ file: file({ cluster: { migration: { chunkBytes: 65_536 } } }), env: { GATEHOUSE_CLUSTER_MIGRATION_ACK_WAIT_MS: '500' }, flags: { set: ['cluster.migration.handoverWindowActors=150'] } });
    expect(c.cluster.migration).toMatchObject({ chunkBytes: 65_536, ackWaitMs: 500, handoverWindowActors: 150, probeTimeoutMs: 5000 });
    expect(errorOf(() => loadConfig({ flags: { set: ['cluster.migration.handoverWindowActors=0'] } })).fields).toContain('cluster.migration.handoverWindowActors');
    expect(errorOf(() => loadConfig({ flags: { set: ['cluster.migration.chunkBytes=10'] } })).message).toContain('cluster.migration.chunkBytes');
    expect(errorOf(() => loadConfig({ file: file({ cluster: { migration: { window: 1 } } }) })).message).toContain('unknown field "window"');
  });

  it('leaves app sections to their apps: without the lobby section `lobby` is unknown and the lobby gets its defaults', () => {
    expect(errorOf(() => loadCore({ file: file({ lobby: { refreshMs: 1 } }) })).message).toContain('unknown field "lobby"');
    expect(readSection(loadCore(), lobbyConfig)).toBe(lobbyConfig.defaults);
    expect(errorOf(() => loadConfig({ file: file({ lobby: { refreshMs: 0 } }) })).message).toMatch(/lobby\.refreshMs \(from file .*gatehouse\.json\)/);
    expect(errorOf(() => loadConfig({ file: file({ lobby: { gates: 1 } }) })).message).toContain('unknown field "gates"');
  });

  it('takes built-in app names as strings; the wiring names an unknown one', () => {
    expect(loadConfig({ flags: { set: ['node.builtinApps=demo,chat'] } }).node.builtinApps).toEqual(['demo', 'chat']);
    expect(defaultApps(loadConfig()).map((a) => a.name)).toEqual(['gateway', 'demo', 'chat', 'lobby']);
    const e = errorOf(() => defaultApps(loadConfig({ env: { GATEHOUSE_NODE_BUILTIN_APPS: 'demo,lobbby' } })));
    expect(e.message).toContain('node.builtinApps: no built-in app "lobbby"');
    expect(e.fields).toEqual(['node.builtinApps']);
  });
});
