/**
 * `gatehouse nats-config --prefix P [--account NAME] [--password-file FILE]`: prints the `accounts` block for
 * nats-server 2.9 with one least-privilege user per role of deployment P. The matrix (docs/SECURITY.md):
 *
 *   role     publish                                   subscribe                          JetStream (P's buckets)
 *   worker   P.>                                       P.>                                every bucket: create, read, write, watch
 *   gateway  P.> but hand-overs                        P.> but hand-overs                 every bucket: create, read, write, watch
 *   ops      sys.info.* (status, inspect), sys.tap     P.> but others' replies, hand-over read: nodes, cluster, shards, pins, gateways
 *                                                      images, inboxes of kinds that redact
 *   admin    ops + sys.ctl.* (drain, move-in…)         as ops                             ops + write pins, watch shards (move)
 *
 * Nodes and tools reply through inboxes under the prefix (P._INBOX, tools P._INBOX_tools), so every grant is per
 * prefix. Neither ops nor admin may publish into an actor's inbox: only a node identity can send an actor a message
 * (and so forge a sender's dedupe marks, which the runtime bounds: actors/runtime/seen.ts). Subjects come from
 * bus/subjects.ts `permissions`; bucket names from the modules that own them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { permissions as P, INBOX } from '../../bus/subjects.js';
import { snapshotBucketNames } from '../../actors/runtime/snapshots.js';
import { TAP_TOPIC } from '../../actors/runtime/trace.js';
import { CONTROL_TOPIC, INFO_TOPIC } from '../../cluster/control.js';
import { BUCKETS } from '../../cluster/records.js';
import { GATEWAY_BUCKET } from '../../gateway/registry.js';
import { GatehouseError } from '../../common/errors.js';
import { loadApps } from '../../server/apps.js';
import { Command } from 'commander';
import { configFrom, withConfigOptions, type Opts } from '../cli-args.js';
import { withExamples } from '../cli-kit.js';

export const ROLES = ['worker', 'gateway', 'ops', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Permissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  allow_responses?: boolean;
}

export interface MatrixInput {
  prefix: string;
  /** Every store bucket of the deployment (snapshot buckets included). */
  buckets: string[];
  /** Kinds whose inboxes carry secrets (a `redact` declaration): ops and admin may not read them. */
  secretKinds: string[];
}

/** Buckets whose contents are safe to read for operators (no actor state, no secrets). */
const OPS_READABLE = [BUCKETS.nodes, BUCKETS.cluster, BUCKETS.leases, BUCKETS.pins, GATEWAY_BUCKET];

/** The deployment's buckets: cluster records, gateways, and the snapshot bucket(s) (`actors`, or `actors-<i>`). */
export function deploymentBuckets(snapshotBuckets: number): string[] {
  return [...Object.values(BUCKETS), GATEWAY_BUCKET, ...snapshotBucketNames(snapshotBuckets)];
}

/** Everything a node does with its buckets: open (info, create), read, write, list, watch (ordered consumers). */
function nodeJetStream(prefix: string, buckets: string[]): string[] {
  return buckets.flatMap((b) => [
    P.kvWrite(prefix, b),
    P.jsApi('STREAM.INFO', prefix, b),
    P.jsApi('STREAM.CREATE', prefix, b),
    P.jsApi('STREAM.UPDATE', prefix, b),
    P.jsApi('STREAM.MSG.GET', prefix, b),
    P.jsApi('CONSUMER.CREATE', prefix, b),
    P.jsApi('CONSUMER.CREATE', prefix, b, true),
    P.jsApi('CONSUMER.DELETE', prefix, b, true),
    P.jsApi('CONSUMER.INFO', prefix, b, true),
    P.jsFlowControl(prefix, b),
  ]);
}

/** Reading a bucket: its stream's info (and subject list) and a get per key. */
function readJetStream(prefix: string, buckets: readonly string[]): string[] {
  return buckets.flatMap((b) => [P.jsApi('STREAM.INFO', prefix, b), P.jsApi('STREAM.MSG.GET', prefix, b)]);
}

/** Watching a bucket (an ordered push consumer): create, delete, info, flow control. */
function watchJetStream(prefix: string, bucket: string): string[] {
  return [
    P.jsApi('CONSUMER.CREATE', prefix, bucket),
    P.jsApi('CONSUMER.CREATE', prefix, bucket, true),
    P.jsApi('CONSUMER.DELETE', prefix, bucket, true),
    P.jsApi('CONSUMER.INFO', prefix, bucket, true),
    P.jsFlowControl(prefix, bucket),
  ];
}

/** The permission matrix, pure: role → NATS permissions. */
export function permissionMatrix(m: MatrixInput): Record<Role, Permissions> {
  const { prefix, buckets, secretKinds } = m;
  const node = [P.all(prefix), P.jsAccountInfo(), ...nodeJetStream(prefix, buckets)];
  // What an operator may never see: other users' replies (KV gets of snapshots, session replies), hand-over images
  // (whole actor states) and the inboxes of kinds whose messages carry secrets (session tickets).
  const opsSubDeny = [P.inboxes(prefix, INBOX), ...P.handover(prefix), ...secretKinds.map((k) => P.kind(prefix, k))];
  const opsPub = [P.sys(prefix, INFO_TOPIC), P.sys(prefix, TAP_TOPIC, false), P.jsAccountInfo(), ...readJetStream(prefix, OPS_READABLE)];
  return {
    worker: { publish: { allow: node }, subscribe: { allow: [P.all(prefix)] }, allow_responses: true },
    // A gateway-only node hosts no shards, so it never sends or receives hand-overs; otherwise it is a node.
    gateway: {
      publish: { allow: node, deny: P.handover(prefix) },
      subscribe: { allow: [P.all(prefix)], deny: P.handover(prefix) },
      allow_responses: true,
    },
    ops: { publish: { allow: opsPub }, subscribe: { allow: [P.all(prefix)], deny: opsSubDeny } },
    admin: {
      publish: { allow: [...opsPub, P.sys(prefix, CONTROL_TOPIC), P.kvWrite(prefix, BUCKETS.pins), ...watchJetStream(prefix, BUCKETS.leases)] },
      subscribe: { allow: [P.all(prefix)], deny: opsSubDeny },
    },
  };
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`;

/** Renders the matrix as a nats-server `accounts` block (one account, JetStream on, one user per role). */
export function renderAccounts(account: string, prefix: string, matrix: Record<Role, Permissions>, passwords: Record<Role, string>): string {
  const users = ROLES.map((role) => {
    const p = matrix[role];
    const pub = `publish: { allow: ${list(p.publish.allow)}${p.publish.deny ? `, deny: ${list(p.publish.deny)}` : ''} }`;
    const sub = `subscribe: { allow: ${list(p.subscribe.allow)}${p.subscribe.deny ? `, deny: ${list(p.subscribe.deny)}` : ''} }`;
    const resp = p.allow_responses ? ',\n          allow_responses: true' : '';
    return `      {\n        user: ${q(userName(prefix, role))}, password: ${q(passwords[role])},\n        permissions: {\n          ${pub},\n          ${sub}${resp}\n        }\n      }`;
  });
  return [
    `# gatehouse deployment ${prefix}: least-privilege users (gatehouse nats-config; docs/SECURITY.md).`,
    `# Keep this file private: it holds the passwords. Nodes: --set nats.user=<user> --set nats.pass=<password>.`,
    `accounts {`,
    `  ${q(account)}: {`,
    `    jetstream: enabled`,
    `    users: [`,
    users.join(',\n'),
    `    ]`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

export function userName(prefix: string, role: Role): string {
  return `${prefix}-${role}`;
}

/** `role: password` or `role=password` lines; `#` comments. Roles not listed get a random password. */
export function readPasswords(text: string | undefined): Record<Role, string> {
  const out = {} as Record<Role, string>;
  for (const [i, raw] of (text ?? '').split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z]+)\s*[:=]\s*(\S.*)$/.exec(line);
    if (!m || !(ROLES as readonly string[]).includes(m[1]!)) {
      throw new GatehouseError('USAGE', `password file line ${i + 1}: expected "<role>: <password>" with role one of ${ROLES.join(', ')}`);
    }
    if (/["\\]/.test(m[2]!)) throw new GatehouseError('USAGE', `password file line ${i + 1}: a password may not contain " or \\`);
    out[m[1] as Role] = m[2]!;
  }
  for (const r of ROLES) out[r] ??= randomBytes(18).toString('base64url');
  return out;
}

export function natsConfigCommand(): Command {
  const cmd = new Command('nats-config')
    .description('print least-privilege NATS users (worker, gateway, ops, admin) of a deployment for nats-server')
    .option('--account <name>', 'the NATS account name (default: the prefix in capitals)')
    .option('--password-file <file>', '"role: password" lines; roles not listed get a random password')
    .action(async (opts: Opts) => printNatsConfig(opts));
  return withExamples(withConfigOptions(cmd), [
    'gatehouse nats-config --prefix mh > accounts.conf',
    'gatehouse nats-config --prefix mh --password-file passwords.txt --account GAME',
  ]);
}

/** The command on its own (tests, scripts): throws instead of exiting on a bad flag. */
export async function runNatsConfig(argv: string[]): Promise<void> {
  await natsConfigCommand().exitOverride().parseAsync(argv, { from: 'user' });
}

async function printNatsConfig(opts: Opts): Promise<void> {
  const config = configFrom(opts);
  const file = typeof opts.passwordFile === 'string' ? opts.passwordFile : undefined;
  let text: string | undefined;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new GatehouseError('USAGE', `--password-file ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const kinds = (await loadApps(config)).flatMap((a) => a.kinds);
  const matrix = permissionMatrix({
    prefix: config.prefix,
    buckets: deploymentBuckets(config.actors.snapshotBuckets),
    secretKinds: kinds.filter((k) => k.redact?.length).map((k) => k.name),
  });
  const account = typeof opts.account === 'string' ? opts.account : config.prefix.toUpperCase();
  process.stdout.write(renderAccounts(account, config.prefix, matrix, readPasswords(text)));
}
