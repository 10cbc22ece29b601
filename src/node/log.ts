// The coordinator's structured log on Node (`coordinator serve`): pino, one
// JSON line per event with `level` as a name, `time` in ISO 8601 and `msg`,
// the fields src/log.ts gives the Workers runtime's console lines.
import { pino, type Logger } from 'pino';
import type { LogEntry } from '../context.js';
import { requestFields, requestLevel } from '../log.js';

export type { Logger };

/** A logger writing each line to `write` (without its newline); level from $CONCORDAT_LOG_LEVEL, else info. */
export function createLogger(write: (line: string) => void, level: string = process.env.CONCORDAT_LOG_LEVEL || 'info'): Logger {
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => write(s.endsWith('\n') ? s.slice(0, -1) : s) },
  );
}

/** The app's request log (AppDeps.log) on a pino logger. */
export function requestLogger(logger: Logger): (entry: LogEntry) => void {
  return (entry) => logger[requestLevel(entry)](requestFields(entry), 'request');
}
