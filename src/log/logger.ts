// pino logger: JSON by default, pretty on a TTY (or when LOG_FORMAT says so).
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level: string; format: 'auto' | 'json' | 'pretty'; name?: string }): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  return pino({
    name: opts.name ?? 'refdata',
    level: opts.level,
    transport: pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } : undefined,
  });
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
