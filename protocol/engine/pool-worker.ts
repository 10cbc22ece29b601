// Worker thread body for the engine pool: loads its engine once, then runs tasks.
import { parentPort, workerData } from 'node:worker_threads';
import { DecodeError } from '../errors.js';
import { runTask, type TaskMessage, type TaskReply } from './pool.js';
import type { EngineName } from './types.js';

const engine = (workerData as { engine: EngineName }).engine;

parentPort?.on('message', (msg: TaskMessage) => {
  runTask(msg, engine).then(
    (out) => parentPort?.postMessage({ id: msg.id, ok: true, out } satisfies TaskReply, [out.buffer as ArrayBuffer]),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      const reply: TaskReply = {
        id: msg.id,
        ok: false,
        error: {
          name: err.name,
          message: err.message,
          ...(err instanceof DecodeError ? { field: err.field, reason: err.reason } : {}),
        },
      };
      parentPort?.postMessage(reply);
    },
  );
});
