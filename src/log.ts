// The coordinator's log lines: one JSON object per line with `level`, `time`
// (ISO 8601), `msg` and the line's fields. On Node they are written by pino
// (src/node/log.ts); on Workers by console (this module), with the same fields.
// Request lines carry the request id (`reqId`), never a body or query value.
import type { LogEntry } from './context.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The level of a request's line: a failure of the coordinator (5xx) is an error, a refusal or success is info. */
export function requestLevel(entry: LogEntry): LogLevel {
  return entry.status >= 500 ? 'error' : 'info';
}

/** The fields of a request's line: the entry without its start time (`time` is when the line is written, `ms` how long it took). */
export function requestFields(entry: LogEntry): Omit<LogEntry, 'at'> {
  const { at: _at, ...fields } = entry;
  return fields;
}

/** One line through console, as pino would write it (Workers). */
export function consoleLog(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), ...fields, msg });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
