// Worker thread of `concordat import`: checks and canonicalises batches of
// parsed rows (import-rows.ts) while the importing thread reads the file and
// writes the store. Replies in the order the batches came.
import { parentPort, workerData } from 'node:worker_threads';
import { checkRows, type RowInput } from './import-rows.js';

export interface ImportTask {
  id: number;
  input: RowInput;
}

export type ImportReply = { id: number; ok: true; counts: Int16Array; strings: string[] } | { id: number; ok: false; error: string };

const defaultCountry = (workerData as { defaultCountry?: string } | null)?.defaultCountry;

parentPort?.on('message', (task: ImportTask) => {
  let reply: ImportReply;
  try {
    const { counts, strings } = checkRows(task.input, defaultCountry);
    reply = { id: task.id, ok: true, counts, strings };
  } catch (e) {
    // The error's name only: its message could quote the row it came from.
    reply = { id: task.id, ok: false, error: e instanceof Error ? e.name : typeof e };
  }
  parentPort?.postMessage(reply, reply.ok ? [reply.counts.buffer as ArrayBuffer] : []);
});
