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

/**
 * Lines to `stream`, those written in one turn of the event loop joined into
 * one write: under load one write per request was a tenth of the
 * coordinator's CPU (a synchronous syscall per line on a pipe). A line waits
 * at most until the loop's next check phase; `flush()` writes what waits now.
 */
export function batchedLines(stream: { write(s: string): unknown }): { write: (line: string) => void; flush: () => void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    stream.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      if (pending.length >= 512) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** The app's request log (AppDeps.log) on a pino logger. */
export function requestLogger(logger: Logger): (entry: LogEntry) => void {
  return (entry) => logger[requestLevel(entry)](requestFields(entry), 'request');
}
