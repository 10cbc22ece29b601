// A pool that spreads engine batches over all cores. On Node it runs worker
// threads; where no threads exist (Workers, browsers) the same API runs the
// engine inline. Threads are started once per process, on the first batch
// large enough to gain from them, and reused by every later pool of the same
// engine and size: a nightly sync of a few hundred changed rows neither starts
// threads nor loads libsodium again. Idle workers are unref'd, so a pool never
// keeps a process alive. Node APIs are reached through dynamic imports only.
import { ELEMENT_BYTES, TOKEN_BYTES, makeSuite, type Suite } from '../constants.js';
import { DecodeError, ProtocolError } from '../errors.js';
import { defaultEngineName, loadEngine } from './index.js';
import type { EngineName } from './types.js';

export type Progress = (done: number, total: number) => void;

export interface BatchOptions {
  onProgress?: Progress;
  /** Field name used in decode errors (`${label}[i]` with the batch-wide index). */
  label?: string;
}

export interface EnginePool {
  readonly engine: EngineName;
  readonly threads: number;
  hashToGroup(suite: Suite, inputs: readonly Uint8Array[], opts?: BatchOptions): Promise<Uint8Array>;
  blind(suite: Suite, sk: Uint8Array, inputs: readonly Uint8Array[], opts?: BatchOptions): Promise<Uint8Array>;
  evaluate(sk: Uint8Array, elements: Uint8Array, opts?: BatchOptions): Promise<Uint8Array>;
  tokenize(suite: Suite, sk: Uint8Array, elements: Uint8Array, opts?: BatchOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Default: the native engine where it loads, else fast. */
  engine?: EngineName;
  /** Worker threads; default: available parallelism. 0 runs inline. */
  threads?: number;
  /** Elements per task at most; smaller gives smoother progress, larger less messaging. */
  taskSize?: number;
  /**
   * Batches below this many elements run inline on the calling thread: below
   * it, handing work to threads costs more than it saves (bench/blind.ts
   * measures the crossing). Default INLINE_BELOW once the threads run,
   * COLD_INLINE_BELOW before.
   */
  inlineBelow?: number;
  /**
   * Share the process-wide threads of this engine and size (default). A
   * private pool starts its own threads and terminates them on close().
   */
  shared?: boolean;
}

/**
 * Measured on a 2-core machine with the native engine (bench/blind.ts, "pool
 * crossing"): below 512 elements a batch costs at most ≈ 35 ms inline, and
 * warm threads gain nothing on it once messaging and copying are paid, while
 * a process's first threaded batch also pays for starting the threads (each
 * loads the modules and libsodium: 0.1–1 s depending on load).
 */
export const INLINE_BELOW = 512;

/**
 * The same crossing while the process has not started its threads yet: the
 * first threaded batch also pays their start (≈ 190 ms measured by
 * bench/blind.ts on 2 cores, more under load), which inline work on one core
 * recovers only past several thousand elements (≈ 60 µs a blind, and two
 * threads give ≈ 1.6× one). A sync of a night's churn (a few thousand
 * elements) then never starts threads.
 */
export const COLD_INLINE_BELOW = 4096;

/** Wire form of a task sent to a worker. */
export type TaskOp = 'hashToGroup' | 'blind' | 'evaluate' | 'tokenize';
export interface TaskMessage {
  id: number;
  op: TaskOp;
  context: Uint8Array;
  sk: Uint8Array;
  /** Inputs: packed bytes plus end offsets; elements: packed n×32. */
  data: Uint8Array;
  ends?: Uint32Array;
  label: string;
  /** Index of the first element, for error messages. */
  base: number;
}
export type TaskReply =
  | { id: number; ok: true; out: Uint8Array }
  | { id: number; ok: false; error: { name: string; message: string; field?: string; reason?: string } };

/** Run one task with an engine (shared by workers and the inline pool). */
export async function runTask(msg: TaskMessage, engineName: EngineName): Promise<Uint8Array> {
  const engine = await loadEngine(engineName);
  const suite = makeSuite(msg.context);
  const inputs = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let start = 0;
    for (const end of msg.ends ?? []) {
      out.push(msg.data.subarray(start, end));
      start = end;
    }
    return out;
  };
  try {
    switch (msg.op) {
      case 'hashToGroup':
        return engine.hashToGroup(suite, inputs());
      case 'blind':
        return engine.blind(suite, msg.sk, inputs());
      case 'evaluate':
        return engine.evaluate(msg.sk, msg.data, msg.label);
      case 'tokenize':
        return engine.tokenize(suite, msg.sk, msg.data, msg.label);
    }
  } catch (e) {
    // Re-base element indices so errors name the position in the whole batch.
    if (e instanceof DecodeError && msg.base > 0) {
      const m = /^(.*)\[(\d+)\]$/.exec(e.field);
      if (m) throw new DecodeError(`${m[1]}[${msg.base + Number(m[2])}]`, e.reason, e.message.slice(e.field.length + 2));
    }
    throw e;
  }
}

function packInputs(inputs: readonly Uint8Array[]): { data: Uint8Array; ends: Uint32Array } {
  let n = 0;
  for (const x of inputs) n += x.length;
  const data = new Uint8Array(n);
  const ends = new Uint32Array(inputs.length);
  let o = 0;
  inputs.forEach((x, i) => {
    data.set(x, o);
    o += x.length;
    ends[i] = o;
  });
  return { data, ends };
}

interface Runner {
  run(msg: TaskMessage): Promise<Uint8Array>;
  close(): Promise<void>;
  threads: number;
  /** Set once a worker has died: the runner is not handed out again. */
  broken(): boolean;
}

function inlineRunner(engine: EngineName): Runner {
  return { threads: 0, run: (msg) => runTask(msg, engine), close: async () => {}, broken: () => false };
}

async function threadRunner(engine: EngineName, threads: number): Promise<Runner> {
  const { Worker } = await import('node:worker_threads');
  const url = new URL('./pool-worker.js', import.meta.url);
  const workers = Array.from({ length: threads }, () => new Worker(url, { workerData: { engine } }));
  const idle = [...workers];
  const waiting: Array<(w: (typeof workers)[number]) => void> = [];
  const pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failed: Error | undefined;
  for (const w of workers) {
    w.unref();
    w.on('message', (reply: TaskReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.out);
      else {
        const { name, message, field, reason } = reply.error;
        p.reject(
          name === 'DecodeError' && field && reason
            ? new DecodeError(field, reason as DecodeError['reason'], message.slice(field.length + 2))
            : name === 'ProtocolError'
              ? new ProtocolError(message)
              : new Error(message),
        );
      }
      const next = waiting.shift();
      if (next) next(w);
      else {
        // An idle pool must not keep the process alive.
        w.unref();
        idle.push(w);
      }
    });
    w.on('error', (err) => {
      failed = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  const acquire = (): Promise<(typeof workers)[number]> => {
    const w = idle.pop();
    return w ? Promise.resolve(w) : new Promise((res) => waiting.push(res));
  };
  return {
    threads,
    async run(msg) {
      if (failed) throw failed;
      const w = await acquire();
      const id = nextId++;
      return new Promise<Uint8Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const transfer = [msg.data.buffer, ...(msg.ends ? [msg.ends.buffer] : [])] as ArrayBuffer[];
        w.ref();
        w.postMessage({ ...msg, id }, transfer);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
    broken: () => failed !== undefined,
  };
}

async function defaultThreads(): Promise<number> {
  try {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism());
  } catch {
    return 0;
  }
}

/** Process-wide thread runners, one per engine and size. */
const sharedRunners = new Map<string, Promise<Runner>>();

function startRunner(engine: EngineName, threads: number): Promise<Runner> {
  // Where threads cannot start (no worker_threads, or the worker module is
  // not built), the same API runs inline.
  return threadRunner(engine, threads).catch(() => inlineRunner(engine));
}

/** The process-wide runner's key for this engine and size. */
const runnerKey = (engine: EngineName, threads: number): string => `${engine}/${threads}`;

function sharedRunner(engine: EngineName, threads: number): Promise<Runner> {
  const key = runnerKey(engine, threads);
  let r = sharedRunners.get(key);
  if (!r) {
    r = startRunner(engine, threads);
    sharedRunners.set(key, r);
  }
  return r.then((runner) => {
    if (!runner.broken()) return runner;
    if (sharedRunners.get(key) === r) sharedRunners.delete(key);
    void runner.close();
    return sharedRunner(engine, threads);
  });
}

/** Terminate the process-wide threads (a server shutting down; tests). Later pools start new ones. */
export async function closeSharedPools(): Promise<void> {
  const all = [...sharedRunners.values()];
  sharedRunners.clear();
  await Promise.all(all.map(async (r) => (await r).close()));
}

/** How many process-wide thread runners exist (tests check that syncs reuse one). */
export function sharedPoolCount(): number {
  return sharedRunners.size;
}

export async function createPool(opts: PoolOptions = {}): Promise<EnginePool> {
  const engine = opts.engine ?? defaultEngineName();
  // Fail here, not in a worker, if the named engine cannot run.
  await loadEngine(engine);
  const threads = opts.threads ?? (await defaultThreads());
  const taskSize = opts.taskSize ?? 2048;
  const inlineBelow = opts.inlineBelow;
  const shared = opts.shared ?? true;
  const inline = inlineRunner(engine);
  let own: Promise<Runner> | undefined;
  let closed = false;
  const threaded = (): Promise<Runner> => {
    if (threads === 0) return Promise.resolve(inline);
    if (shared) return sharedRunner(engine, threads);
    own ??= startRunner(engine, threads);
    return own;
  };

  async function split(
    op: TaskOp,
    suite: Suite | undefined,
    sk: Uint8Array,
    count: number,
    slice: (from: number, to: number) => { data: Uint8Array; ends?: Uint32Array },
    outSize: number,
    o: BatchOptions = {},
  ): Promise<Uint8Array> {
    if (closed) throw new Error('pool: closed');
    const out = new Uint8Array(count * outSize);
    const started = threads === 0 || (shared ? sharedRunners.has(runnerKey(engine, threads)) : own !== undefined);
    const runner = count < (inlineBelow ?? (started ? INLINE_BELOW : COLD_INLINE_BELOW)) ? inline : await threaded();
    // Equal shares, so no thread idles while another finishes a long tail.
    const parts = runner.threads === 0 ? Math.max(1, Math.ceil(count / taskSize)) : Math.max(runner.threads, Math.ceil(count / taskSize));
    const size = Math.max(1, Math.ceil(count / parts));
    let done = 0;
    const tasks: Promise<void>[] = [];
    for (let from = 0; from < count; from += size) {
      const to = Math.min(count, from + size);
      const { data, ends } = slice(from, to);
      const msg: TaskMessage = {
        id: 0,
        op,
        context: suite ? suite.context.slice() : new Uint8Array(0),
        sk: sk.slice(),
        data,
        ...(ends ? { ends } : {}),
        label: o.label ?? (op === 'blind' || op === 'hashToGroup' ? 'input' : 'element'),
        base: from,
      };
      tasks.push(
        runner.run(msg).then((r) => {
          out.set(r, from * outSize);
          done += to - from;
          o.onProgress?.(done, count);
        }),
      );
    }
    await Promise.all(tasks);
    return out;
  }

  const inputSlicer = (inputs: readonly Uint8Array[]) => (from: number, to: number) => packInputs(inputs.slice(from, to));
  const elementSlicer = (elements: Uint8Array) => (from: number, to: number) => ({
    data: elements.slice(from * ELEMENT_BYTES, to * ELEMENT_BYTES),
  });
  const elementCount = (elements: Uint8Array, label = 'element'): number => {
    if (elements.length % ELEMENT_BYTES !== 0) {
      throw new DecodeError(label, 'length', `packed elements must be a multiple of ${ELEMENT_BYTES} bytes, got ${elements.length}`);
    }
    return elements.length / ELEMENT_BYTES;
  };

  return {
    engine,
    threads,
    hashToGroup: (suite, inputs, o) => split('hashToGroup', suite, new Uint8Array(0), inputs.length, inputSlicer(inputs), ELEMENT_BYTES, o),
    blind: (suite, sk, inputs, o) => split('blind', suite, sk, inputs.length, inputSlicer(inputs), ELEMENT_BYTES, o),
    evaluate: (sk, elements, o) =>
      split('evaluate', undefined, sk, elementCount(elements, o?.label), elementSlicer(elements), ELEMENT_BYTES, o),
    tokenize: (suite, sk, elements, o) =>
      split('tokenize', suite, sk, elementCount(elements, o?.label), elementSlicer(elements), TOKEN_BYTES, o),
    async close() {
      closed = true;
      if (own) await (await own).close();
    },
  };
}
