/**
 * Logging: one pino root per process, built from config; child loggers carry `node` and `actor` so a line found at
 * 3 a.m. says where it came from. Hot paths never log per message at info level (pino does ~0.5 M lines/s; that is
 * a budget, not a target).
 */
import { pino, stdSerializers, stdTimeFunctions, destination, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  level: LevelWithSilent;
  /** Pretty lines for humans when stdout is a terminal; JSON lines otherwise. */
  pretty?: boolean;
  name?: string;
}

export function createLogger(opts: LogOptions, dest?: NodeJS.WritableStream): Logger {
  return pino(
    {
      name: opts.name ?? 'gatehouse',
      level: opts.level,
      base: { pid: process.pid },
      serializers: { err: stdSerializers.err },
      timestamp: stdTimeFunctions.isoTime,
    },
    (dest ?? destination({ dest: 1, sync: false })) as DestinationStream,
  );
}

/** A logger that drops everything: the default for libraries and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });

export function nodeLogger(root: Logger, nodeId: string): Logger {
  return root.child({ node: nodeId });
}

export function actorLogger(nodeLog: Logger, kind: string, id: string): Logger {
  return nodeLog.child({ actor: `${kind}/${id}` });
}
