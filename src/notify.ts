// Long polls (src/API.md, "Targeted queries"): a waiting request sleeps
// until the event it awaits is notified, or until its wait runs out. The
// notifier is optional so the app also runs where no in-memory signal reaches
// every instance (Cloudflare Workers without a Durable Object per inbox): it
// then re-reads the store every POLL_INTERVAL_MS instead.

/** Wakes long polls. Keys: `inbox:<agency>` (a leg was addressed to it), `query:<id>` (a leg was answered). */
export interface Notifier {
  /** Resolves when `notify(key)` is called, after `ms`, or when `signal` aborts, whichever comes first. */
  wait(key: string, ms: number, signal?: AbortSignal): Promise<void>;
  notify(key: string): void;
}

export const POLL_INTERVAL_MS = 250;

export function inboxKey(agency: string): string {
  return `inbox:${agency}`;
}

export function queryKey(queryId: string): string {
  return `query:${queryId}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export interface PollResult<T> {
  /** True when the awaited event has happened and the poll should answer now. */
  done: boolean;
  value: T;
}

/**
 * Re-run `check` until it reports done or `waitMs` (wall-clock) passes; the
 * last value is returned either way. The wait is registered before each
 * check, so an event that lands between the check and the wait still wakes it.
 */
export async function longPoll<T>(
  notifier: Notifier | undefined,
  key: string,
  waitMs: number,
  check: () => Promise<PollResult<T>>,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const remaining = deadline - Date.now();
    const ac = new AbortController();
    const stop = () => ac.abort();
    signal?.addEventListener('abort', stop);
    try {
      const woken =
        remaining > 0 ? (notifier ? notifier.wait(key, remaining, ac.signal) : sleep(Math.min(POLL_INTERVAL_MS, remaining), ac.signal)) : undefined;
      const r = await check();
      if (r.done || woken === undefined || signal?.aborted) return r.value;
      await woken;
      // Woken by the abort (the client left, or the server is stopping): answer
      // with the last check rather than read the store again, which a stopping
      // server is about to close.
      if (signal?.aborted) return r.value;
    } finally {
      ac.abort();
      signal?.removeEventListener('abort', stop);
    }
  }
}
