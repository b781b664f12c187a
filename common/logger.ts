/**
 * Logging: one pino root per process, built from config; child loggers carry `node` and `actor` so a line found at
 * 3 a.m. says where it came from. Hot paths never log per message at info level (pino does ~0.5 M lines/s; that is
 * a budget, not a target).
 */
import { pino, stdSerializers, stdTimeFunctions, destination, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LogOptions {
  level: LevelWithSilent;
  /** Older spelling of `format: 'pretty'`. */
  pretty?: boolean;
  /** `auto` (the default): readable lines when stdout is a terminal, JSON lines when piped (to a collector, a file). */
  format?: LogFormat;
  name?: string;
}

/** What `auto` means here and now; worker threads get the answer from their parent (their stdout is never a TTY). */
export function resolveLogFormat(opts: Pick<LogOptions, 'pretty' | 'format'>, isTty = process.stdout.isTTY === true): 'pretty' | 'json' {
  if (opts.format === 'pretty' || opts.format === 'json') return opts.format;
  if (opts.pretty) return 'pretty';
  return isTty ? 'pretty' : 'json';
}

export function createLogger(opts: LogOptions, dest?: NodeJS.WritableStream): Logger {
  const options = {
    name: opts.name ?? 'gatehouse',
    level: opts.level,
    base: { pid: process.pid },
    serializers: { err: stdSerializers.err },
    timestamp: stdTimeFunctions.isoTime,
  };
  if (!dest && resolveLogFormat(opts) === 'pretty') {
    // Synchronous: a person reads these, and the banner printed after them must come after them.
    const stream = pretty({ destination: 1, sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true });
    return pino(options, stream);
  }
  return pino(options, (dest ?? destination({ dest: 1, sync: false })) as DestinationStream);
}

/** Writes out what an asynchronous destination still holds (before a banner, before exit). */
export function flushLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** A logger that drops everything: the default for libraries and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });

export function nodeLogger(root: Logger, nodeId: string): Logger {
  return root.child({ node: nodeId });
}

export function actorLogger(nodeLog: Logger, kind: string, id: string): Logger {
  return nodeLog.child({ actor: `${kind}/${id}` });
}
