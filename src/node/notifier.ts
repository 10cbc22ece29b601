// The in-memory notifier of a single Node process (`coordinator serve`): one
// EventTarget, one event type per key. Many requests may wait on one key
// (several responders polling one inbox), so the listener-leak warning is off.
import { setMaxListeners } from 'node:events';
import type { Notifier } from '../notify.js';

export function memoryNotifier(): Notifier {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return {
    wait(key, ms, signal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          target.removeEventListener(key, done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        target.addEventListener(key, done);
        signal?.addEventListener('abort', done);
      });
    },
    notify(key) {
      target.dispatchEvent(new Event(key));
    },
  };
}
