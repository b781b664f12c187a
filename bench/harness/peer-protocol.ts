/**
 * The IPC protocol between a benchmark and its peers, and the peer (child) side of it.
 *
 *   parent → peer   { type: <command>, id, ...args }      built in: `exit` (close, exit 0), `cpu` (just cpuTotal)
 *   peer → parent   { type: 'ready', pid, ...info }       once, after setup
 *                   { type: 'result', id, cpuTotal, ...out }  one per command; cpuTotal = the peer's CPU seconds so far
 *                   { type: 'error', id, message }        the command threw
 *
 * Commands are few and coarse (start a window, stop, report): IPC traffic must not compete with the workload.
 */
import { cpuSeconds } from './measure.js';

export const ENV_NAME = 'GH_PEER_NAME';
export const ENV_LIFETIME = 'GH_PEER_LIFETIME_MS';

export type PeerResult<T extends object = Record<string, unknown>> = T & {
  type: 'result';
  id: number;
  cpuTotal: number;
};

export type FromPeer =
  | ({ type: 'ready'; pid: number } & Record<string, unknown>)
  | PeerResult
  | { type: 'error'; id?: number; message: string };

export interface ToPeer {
  type: string;
  id: number;
  [arg: string]: unknown;
}

export interface PeerDefinition {
  /** Connects, subscribes, …; what it returns is sent with `ready`. */
  setup?: () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
  /** Command handlers; a handler's return value is merged into the result message. */
  commands: Record<string, (args: ToPeer) => Promise<object | void> | object | void>;
  close?: () => Promise<void> | void;
}

/** The peer's name as given to startPeer (for logs). */
export const peerName = (): string => process.env[ENV_NAME] ?? 'peer';

/**
 * Runs this process as a peer. It exits by itself when the parent goes away (IPC disconnect) or its lifetime runs out,
 * so no peer can outlive its benchmark.
 */
export async function servePeer(def: PeerDefinition): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a benchmark peer must be started by startPeer() (no IPC channel)');
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    try {
      await def.close?.();
    } finally {
      process.exit(code);
    }
  };
  const lifetime = Number(process.env[ENV_LIFETIME] ?? 150_000);
  setTimeout(() => {
    process.stderr.write(`${peerName()}: lifetime of ${lifetime} ms over, exiting\n`);
    process.exit(3);
  }, lifetime).unref();
  process.on('disconnect', () => void shutdown(0));

  process.on('message', (msg: ToPeer) => {
    if (msg.type === 'exit') {
      void shutdown(0);
      return;
    }
    const handler = msg.type === 'cpu' ? () => ({}) : def.commands[msg.type];
    if (!handler) {
      send({ type: 'error', id: msg.id, message: `unknown command '${msg.type}'` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg))
      .then(
        (out) => send({ ...(out ?? {}), type: 'result', id: msg.id, cpuTotal: cpuSeconds() }),
        (err: unknown) => send({ type: 'error', id: msg.id, message: describe(err) }),
      );
  });

  try {
    const info = (await def.setup?.()) ?? {};
    send({ ...info, type: 'ready', pid: process.pid });
  } catch (err) {
    send({ type: 'error', message: `setup failed: ${describe(err)}` });
    process.exit(1);
  }
}

const describe = (err: unknown) => (err instanceof Error ? err.stack ?? err.message : String(err));
