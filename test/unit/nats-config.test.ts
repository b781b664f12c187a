/**
 * The NATS permission matrix of `gatehouse nats-config`, as pure data: what each role may publish and subscribe,
 * which buckets each reaches, and the password file's checks. The real nats-server runs the rendered block in
 * test/security/nats-permissions.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { deploymentBuckets, permissionMatrix, readPasswords, renderAccounts, ROLES } from '../../bin/commands/nats-config.js';

const m = permissionMatrix({ prefix: 'mh', buckets: deploymentBuckets(6), secretKinds: ['session'] });

describe('nats-config permission matrix', () => {
  it('lists every bucket of the deployment, snapshot buckets included', () => {
    expect(deploymentBuckets(6)).toEqual(['nodes', 'cluster', 'shards', 'pins', 'gateways', 'actors-0', 'actors-1', 'actors-2', 'actors-3', 'actors-4', 'actors-5']);
    expect(deploymentBuckets(1)).toContain('actors');
  });

  it('only node roles may publish into the prefix (actor inboxes) or write buckets', () => {
    for (const role of ['worker', 'gateway'] as const) {
      expect(m[role].publish.allow).toContain('mh.>');
      expect(m[role].publish.allow).toContain('$KV.mh_actors-3.>');
      expect(m[role].allow_responses).toBe(true);
    }
    for (const role of ['ops', 'admin'] as const) {
      expect(m[role].publish.allow).not.toContain('mh.>');
      expect(m[role].publish.allow.some((s) => s.startsWith('$KV.mh_actors'))).toBe(false);
      expect(m[role].publish.allow.some((s) => s.includes('KV_mh_actors'))).toBe(false);
      expect(m[role].allow_responses).toBeUndefined();
    }
  });

  it('ops reads status and inspects, admin also drains and moves', () => {
    expect(m.ops.publish.allow).toEqual(expect.arrayContaining(['mh.sys.info.*', 'mh.sys.tap', '$JS.API.STREAM.MSG.GET.KV_mh_shards']));
    expect(m.ops.publish.allow).not.toContain('mh.sys.ctl.*');
    expect(m.admin.publish.allow).toEqual(expect.arrayContaining(['mh.sys.ctl.*', '$KV.mh_pins.>', '$JS.API.CONSUMER.CREATE.KV_mh_shards.>']));
  });

  it('ops and admin never read replies, hand-over images or the inboxes of kinds that redact', () => {
    for (const role of ['ops', 'admin'] as const) {
      expect(m[role].subscribe.deny).toEqual(['mh._INBOX.>', 'mh.sys.ho.>', 'mh.sys.hoack.>', 'mh.session.>']);
    }
    expect(m.gateway.publish.deny).toEqual(['mh.sys.ho.>', 'mh.sys.hoack.>']);
  });

  it('renders one user per role; passwords from the file or random; bad lines are named', () => {
    const pw = readPasswords('# comment\nworker: w1\nops=o 2\n');
    expect(pw.worker).toBe('w1');
    expect(pw.ops).toBe('o 2');
    expect(pw.admin).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const text = renderAccounts('MH', 'mh', m, pw);
    for (const r of ROLES) expect(text).toContain(`user: "mh-${r}"`);
    expect(text).toContain('jetstream: enabled');
    expect(() => readPasswords('root: x')).toThrow(/line 1/);
    expect(() => readPasswords('ops: a"b')).toThrow(/line 1/);
  });
});
