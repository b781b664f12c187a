/**
 * The one module that builds subject strings. Subjects here are relative to the deployment prefix (the Bus adds
 * `<prefix>.`), so the full forms are:
 *
 *   <prefix>.<kind>.<shard>.<id>        actor inbox; a shard owner subscribes to `<prefix>.<kind>.<shard>.*`
 *   <prefix>.<kind>.@<node>.<id>        inbox of an actor pinned to a node (connections on their gateway)
 *   <prefix>.trace.<kind>.<id>          readable state transitions
 *   <prefix>.sys.<topic>[.<node>]       membership, placement and control
 *   <prefix>.fan.<channel>              gateway channels: what one gateway publishes once, every gateway joined pushes to
 *                                       its own connections (gateway/channels.ts; lobby relays)
 *   <prefix>._INBOX.<uid>.<n>           request replies (scoped to the prefix, so permissions can be too)
 *   <prefix>._INBOX_tools.<uid>.<n>     operator tools' replies: apart, so the ops NATS user can be refused the rest
 *
 * Outside the prefix: `$KV.<prefix>_<bucket>.<key>` (store writes) and `$JS.API.…` (JetStream), built here too for
 * NATS permissions (`permissions` below, used by `gatehouse nats-config`).
 *
 * Ids are encoded to exactly one token that is also a valid JetStream KV key: plain ids ([A-Za-z0-9_-], not starting
 * with '=') stay as they are; anything else becomes '=' + base64url(utf8).
 */
import { GatehouseError, ErrorCode } from '../common/errors.js';

const PLAIN_ID = /^[A-Za-z0-9_-]+$/;
const KIND_RE = /^[a-z][a-z0-9-]{0,31}$/;
const PREFIX_RE = /^[A-Za-z0-9_-]{1,64}$/;
const RESERVED_KINDS = new Set(['trace', 'sys', 'gw', 'fan']);
export const PROBE_TOKEN = '~probe';

/** Reply inboxes of nodes (relative to the prefix): the request mux's and nats.js's own (JetStream API, KV watches). */
export const INBOX = '_INBOX';
/** Reply inboxes of operator tools: a token of their own, so that a deny on nodes' inboxes leaves tools theirs. */
export const TOOL_INBOX = '_INBOX_tools';

export function encodeId(id: string): string {
  if (id.length > 0 && id.length <= 200 && PLAIN_ID.test(id)) return id;
  if (id.length === 0) throw new GatehouseError(ErrorCode.BadSubject, 'actor id must not be empty');
  return '=' + Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeId(token: string): string {
  if (!token.startsWith('=')) return token;
  return Buffer.from(token.slice(1), 'base64url').toString('utf8');
}

export function assertKindName(kind: string): void {
  if (!KIND_RE.test(kind) || RESERVED_KINDS.has(kind)) {
    throw new GatehouseError(
      ErrorCode.BadSubject,
      `bad actor kind ${JSON.stringify(kind)}: lower-case letters, digits and '-', starting with a letter, ` +
        `at most 32 characters, not one of ${[...RESERVED_KINDS].join(', ')}`,
    );
  }
}

export function assertPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new GatehouseError(
      ErrorCode.BadSubject,
      `bad prefix ${JSON.stringify(prefix)}: one subject token of A-Z a-z 0-9 _ - (at most 64 characters)`,
    );
  }
}

/** FNV-1a over UTF-16 code units: stable across processes, languages and restarts. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(id: string, shards: number): number {
  return hashId(id) % shards;
}

export const subjects = {
  actor: (kind: string, shard: number, id: string): string => `${kind}.${shard}.${encodeId(id)}`,
  /** Everything a shard owner receives for one kind. */
  shard: (kind: string, shard: number): string => `${kind}.${shard}.*`,
  /**
   * Migration probe on a shard's own subject ('~' never appears in an encoded id): receiving one from a node proves
   * that node's NATS server already routes this shard's traffic to the receiver.
   */
  probe: (kind: string, shard: number): string => `${kind}.${shard}.${PROBE_TOKEN}`,
  pinned: (kind: string, node: string, id: string): string => `${kind}.@${encodeId(node)}.${encodeId(id)}`,
  pinnedAll: (kind: string, node: string): string => `${kind}.@${encodeId(node)}.*`,
  trace: (kind: string, id: string): string => `trace.${kind}.${encodeId(id)}`,
  traceAll: (): string => 'trace.>',
  sys: (topic: string, node?: string): string => (node === undefined ? `sys.${topic}` : `sys.${topic}.${encodeId(node)}`),
  sysAll: (topic: string): string => `sys.${topic}.*`,
  gateway: (node: string, topic: string): string => `gw.${encodeId(node)}.${topic}`,
  /** A gateway channel (gateway/channels.ts): every gateway with a connection joined to it subscribes. */
  channel: (name: string): string => `fan.${encodeId(name)}`,
  /** Hand-over chunks of one move, sent by the old owner to the new one. */
  handover: (node: string, moveId: string): string => `sys.ho.${encodeId(node)}.${encodeId(moveId)}`,
  /** The new owner's "adopted" for each shard of a move, to the old owner (flow control of the hand-over). */
  handoverAck: (node: string, moveId: string): string => `sys.hoack.${encodeId(node)}.${encodeId(moveId)}`,
} as const;

/** A store bucket's name in NATS: `<prefix>_<name>`, so deployments sharing a NATS never share state. */
export function bucketName(prefix: string, name: string): string {
  return `${prefix}_${name}`;
}

/** A JetStream API operation on one stream: `$JS.API.<op>.<stream>`. */
type JsStreamOp = 'STREAM.INFO' | 'STREAM.CREATE' | 'STREAM.UPDATE' | 'STREAM.MSG.GET' | 'CONSUMER.CREATE' | 'CONSUMER.DELETE' | 'CONSUMER.INFO';

/**
 * Absolute subject patterns (prefix included) for NATS permissions: who may publish or subscribe where. Built here,
 * beside the subjects themselves, so a new subject family shows up in the one place the permission matrix reads.
 */
export const permissions = {
  /** Every subject of the deployment. */
  all: (prefix: string): string => `${prefix}.>`,
  /** Reply inboxes: nodes' (INBOX) or tools' (TOOL_INBOX). */
  inboxes: (prefix: string, inbox: string = INBOX): string => `${prefix}.${inbox}.>`,
  /** Every actor inbox of one kind, sharded and pinned. */
  kind: (prefix: string, kind: string): string => `${prefix}.${kind}.>`,
  /** `sys.<topic>` addressed to any node (`sys.<topic>.*`), or the topic itself when `perNode` is false. */
  sys: (prefix: string, topic: string, perNode = true): string => (perNode ? `${prefix}.sys.${topic}.*` : `${prefix}.sys.${topic}`),
  /** Hand-over chunks and their acknowledgements (whole actor images travel there). */
  handover: (prefix: string): string[] => [`${prefix}.sys.ho.>`, `${prefix}.sys.hoack.>`],
  /** Store writes (put, create, update, delete) to one bucket. */
  kvWrite: (prefix: string, bucket: string): string => `$KV.${bucketName(prefix, bucket)}.>`,
  /** The stream behind a bucket. */
  kvStream: (prefix: string, bucket: string): string => `KV_${bucketName(prefix, bucket)}`,
  /** A JetStream API call on a bucket's stream; consumer calls also take names and filters after it (`.>`). */
  jsApi: (op: JsStreamOp, prefix: string, bucket: string, more = false): string =>
    `$JS.API.${op}.KV_${bucketName(prefix, bucket)}${more ? '.>' : ''}`,
  /** Flow-control replies of a watch (ordered push consumer) on a bucket. */
  jsFlowControl: (prefix: string, bucket: string): string => `$JS.FC.KV_${bucketName(prefix, bucket)}.>`,
  /** Account information (nats.js asks it when it opens a bucket): read only. */
  jsAccountInfo: (): string => '$JS.API.INFO',
} as const;

/** Splits an actor inbox subject back into its parts (for tools); null when it is not one. */
export function parseActorSubject(subject: string): { kind: string; shard: string; id: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 3 || !KIND_RE.test(parts[0]!) || RESERVED_KINDS.has(parts[0]!)) return null;
  return { kind: parts[0]!, shard: parts[1]!, id: decodeId(parts[2]!) };
}
