/**
 * The message bus, as the rest of gatehouse sees it. Two implementations pass one contract suite
 * (test/contract/bus.contract.ts): NATS (bus/nats/nats-bus.ts) and in-memory (bus/memory-bus.ts).
 *
 * A Bus is bound to a deployment prefix. Every subject given to it or received from it is *relative*: the bus prepends
 * `<prefix>.` on the way out and strips it on the way in. Isolation between prefixes therefore holds by construction
 * (`subscribe('>')` sees only its own prefix), and NATS permissions can be scoped to `<prefix>.>`.
 */
export type Headers = Record<string, string>;

export interface BusMsg {
  /** Relative subject the message was published to. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** Relative reply subject, when the sender expects an answer. */
  readonly reply?: string;
  readonly headers?: Headers;
  /** In-process only: the decoded payload, when the publisher gave one (PublishOptions.value). */
  readonly value?: unknown;
}

export interface PublishOptions {
  reply?: string;
  headers?: Headers;
  /**
   * In-process buses only (memory; others ignore it): the decoded form of `data`, handed to subscribers as
   * `BusMsg.value`, so a receiver in the same process need not decode. `data` may then be empty: the memory bus
   * encodes `value` (bus/codec.ts) for a subscriber that reads `data`. The publisher must not keep a reference into
   * it (actors/runtime/client.ts copies on send).
   */
  value?: unknown;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: Headers;
}

export type MsgHandler = (msg: BusMsg) => void;

export interface Subscription {
  readonly subject: string;
  readonly queue?: string;
  unsubscribe(): void;
  readonly closed: boolean;
}

export type BusStatus =
  | { type: 'disconnect'; server?: string }
  | { type: 'reconnecting' }
  | { type: 'reconnect'; server?: string }
  | { type: 'error'; error: Error }
  | { type: 'slow-consumer'; subject: string }
  | { type: 'closed'; error?: Error };

export interface Bus {
  /**
   * 'memory', 'nats', 'socket' (a tool on an embedded node's control socket) or 'thread' (a worker thread on a
   * MessagePort to its process's broker, bus/thread/); for logs and status.
   */
  readonly kind: 'memory' | 'nats' | 'socket' | 'thread';
  readonly prefix: string;
  /**
   * Sends `data`, after everything this connection sent before (requests and replies included). Throws at once what
   * the bus refuses at once: BAD_SUBJECT, CLOSED, a payload over the server's limit. An accepted publish may leave
   * later (NATS: at the end of the event-loop iteration, with the others of that iteration, or at flush, drain or
   * close, whichever comes first); if the connection closes before, it is lost, like any message in a client's
   * buffer, and logged.
   */
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void;
  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription;
  /**
   * Publishes with a reply inbox and resolves with the first reply. Rejects with TimeoutError after `timeoutMs`
   * (default 5000) or at once with NoRespondersError when nobody subscribes to `subject`.
   */
  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg>;
  /** Answers a message received with a reply subject. */
  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void;
  /** Resolves when everything published so far has reached the server (NATS) or every subscriber queue (memory). */
  flush(): Promise<void>;
  /** Listens to connection status (disconnect, reconnect, errors). Returns the function that stops listening. */
  onStatus(listener: (s: BusStatus) => void): () => void;
  /** Stops taking new messages, delivers what is pending, then closes. */
  drain(): Promise<void>;
  close(): Promise<void>;
  readonly isClosed: boolean;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
