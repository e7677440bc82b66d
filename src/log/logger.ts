// pino logger: JSON by default, pretty on a TTY (or when LOG_FORMAT says so), and rotating files under LOG_DIR.
import path from 'node:path';
import pino, { type Logger, type TransportTargetOptions } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  name?: string;
  /** Also write JSON to rotating files in this folder (pino-roll). */
  dir?: string;
  /** Rotated files kept besides the active one. */
  retentionFiles?: number;
  /** e.g. `50m`; a file is rotated when it reaches this size. */
  rotateSize?: string;
  rotateFrequency?: 'daily' | 'hourly';
  /** Base name of the log files; defaults to `refdata-<subcommand>` so processes sharing LOG_DIR keep their own files. */
  fileName?: string;
  /** With `dir`: also write to stdout (default true). */
  stdout?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  const name = opts.name ?? 'refdata';
  if (!opts.dir || opts.level === 'silent') {
    return pino({
      name,
      level: opts.level,
      transport: pretty ? { target: 'pino-pretty', options: prettyOptions } : undefined,
    });
  }
  // Each target filters on its own level, so every target gets the logger's level or it would drop debug lines.
  const console: TransportTargetOptions = pretty ? { target: 'pino-pretty', level: opts.level, options: prettyOptions } : { target: 'pino/file', level: opts.level, options: { destination: 1 } };
  const targets: TransportTargetOptions[] = [
    ...(opts.stdout === false ? [] : [console]),
    { target: 'pino-roll', level: opts.level, options: rollOptions(opts) },
  ];
  return pino({ name, level: opts.level }, pino.transport({ targets }));
}

const prettyOptions = { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' };

/** pino-roll settings: `<dir>/<name>.<date>.<n>.log`, rotated by size and by day (or hour), the newest N kept. */
export function rollOptions(opts: LoggerOptions): Record<string, unknown> {
  return {
    file: path.join(opts.dir!, opts.fileName ?? defaultFileName()),
    extension: '.log',
    size: opts.rotateSize ?? '50m',
    frequency: opts.rotateFrequency ?? 'daily',
    dateFormat: opts.rotateFrequency === 'hourly' ? 'yyyy-MM-dd-HH' : 'yyyy-MM-dd',
    mkdir: true,
    // Files of earlier processes with the same base name count too, so retention holds across restarts.
    limit: { count: opts.retentionFiles ?? 14, removeOtherLogFiles: true },
  };
}

/** `refdata-dev`, `refdata-worker`, …: the subcommand names the process; other entry points get `refdata`. */
function defaultFileName(): string {
  const sub = process.argv[2];
  return sub && /^[a-z][a-z-]*$/.test(sub) ? `refdata-${sub}` : 'refdata';
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
