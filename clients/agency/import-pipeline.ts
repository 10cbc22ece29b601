// The rows of `concordat import` on their way from the reader to the store.
// Parsed rows are gathered into batches; each batch is checked and
// canonicalised (import-rows.ts) and then applied, in file order, by the
// importing thread. Once a file has shown enough rows to check, the checking
// moves to one worker thread (import-worker.ts), so canonicalisation runs
// beside the reading and the SQLite writes instead of between them. The
// result is the same either way: the worker runs the same function, and the
// batches are applied in the order they were read.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AgencyError } from '../sdk/errors.js';
import { checkRows, type CheckedRows, type RowInput } from './import-rows.js';
import type { ImportReply, ImportTask } from './import-worker.js';

/** Rows per batch. */
const BATCH_ROWS = 4096;
/**
 * Rows checked inline before the worker starts: below this a thread's start
 * (about 0.1 s to load the canonicalisation rules) costs more than it saves,
 * so a night that changed a few thousand lines never starts one.
 */
const INLINE_ROWS = 16_384;
/** Batches handed to the worker and not yet applied: the reader waits beyond this. */
const IN_FLIGHT = 4;
/** The worker's heap is capped, well above what it holds (a few batches and the rules). */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 };

export interface RowBatch {
  /** File line of each row. */
  lines: number[];
  /** Emptied once handed to the worker. */
  input: { rows: unknown[] } & { fields: Array<string | undefined> };
  /** The rows' line digests, four words each (meaningful where `hasDigest`). */
  digests: Uint32Array;
  /** 0 for a record over several lines, which is not cached. */
  hasDigest: Uint8Array;
}

const newBatch = (): RowBatch => ({
  lines: [],
  input: { rows: [], fields: [] },
  digests: new Uint32Array(BATCH_ROWS * 4),
  hasDigest: new Uint8Array(BATCH_ROWS),
});

/** A batch holds rows of one file, so of one format. */
const taskInput = (b: RowBatch): RowInput => (b.input.fields.length > 0 ? { fields: b.input.fields } : { rows: b.input.rows });

export class RowPipeline {
  private batch = newBatch();
  private worker: Worker | undefined;
  private starting = false;
  /** Batches with the worker, oldest first: its replies come in this order. */
  private readonly sent: RowBatch[] = [];
  private seen = 0;
  private nextId = 1;
  private failure: unknown;
  private wake: (() => void) | undefined;
  /** Whether a worker ran (for tests and the bench). */
  threaded = false;

  constructor(
    private readonly apply: (batch: RowBatch, checked: CheckedRows) => void,
    private readonly defaultCountry: string | undefined,
    private readonly threads: boolean,
    /** The worker's module; another only in tests. */
    private readonly workerUrl = new URL('./import-worker.js', import.meta.url),
  ) {}

  /**
   * Adds a parsed JSON row. Its line's digest is the four words of `digest`
   * from `at` (copied); none for a record over several lines.
   */
  push(line: number, row: unknown, digest: Uint32Array | undefined, at = 0): void {
    this.batch.input.rows.push(row);
    this.added(line, digest, at);
  }

  /** Adds a CSV row by its three fields. */
  pushFields(
    line: number,
    recordId: string | undefined,
    kind: string | undefined,
    value: string | undefined,
    digest: Uint32Array | undefined,
    at = 0,
  ): void {
    this.batch.input.fields.push(recordId, kind, value);
    this.added(line, digest, at);
  }

  private added(line: number, digest: Uint32Array | undefined, at: number): void {
    const b = this.batch;
    const i = b.lines.length;
    b.lines.push(line);
    if (digest) {
      const o = i * 4;
      b.digests[o] = digest[at] as number;
      b.digests[o + 1] = digest[at + 1] as number;
      b.digests[o + 2] = digest[at + 2] as number;
      b.digests[o + 3] = digest[at + 3] as number;
      b.hasDigest[i] = 1;
    }
    if (i + 1 === BATCH_ROWS) this.dispatch();
  }

  private dispatch(): void {
    const b = this.batch;
    if (b.lines.length === 0) return;
    this.batch = newBatch();
    this.seen += b.lines.length;
    if (this.worker === undefined && this.threads && !this.starting && this.seen > INLINE_ROWS) this.start();
    if (this.worker === undefined) {
      this.apply(b, checkRows(taskInput(b), this.defaultCountry));
      return;
    }
    this.worker.postMessage({ id: this.nextId++, input: taskInput(b) } satisfies ImportTask);
    // The rows were copied to the worker; only what applying needs stays here,
    // so they die young instead of filling the old generation.
    b.input = { rows: [], fields: [] };
    this.sent.push(b);
  }

  private start(): void {
    this.starting = true;
    const url = this.workerUrl;
    // Run from sources (the tests' transform), the worker module is not built: check inline.
    if (!existsSync(fileURLToPath(url))) return;
    const w = new Worker(url, { workerData: { defaultCountry: this.defaultCountry }, resourceLimits: WORKER_LIMITS });
    this.worker = w;
    this.threaded = true;
    w.on('message', (reply: ImportReply) => {
      const b = this.sent.shift();
      if (b === undefined || this.failure !== undefined) return;
      try {
        if (!reply.ok) throw new AgencyError(`the import's worker thread failed (${reply.error}); nothing imported`);
        this.apply(b, { counts: reply.counts, strings: reply.strings });
      } catch (e) {
        this.failure = e;
      }
      this.notify();
    });
    w.on('error', (e) => this.lose(w, e));
    w.on('exit', () => this.lose(w, undefined));
  }

  /**
   * The worker stopped before it answered (its heap cap, an exception it did
   * not catch): the rows it held are gone from this thread too, so the
   * import fails as a whole and is not half applied.
   */
  private lose(w: Worker, why: unknown): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    void w.terminate();
    if (this.sent.length > 0 && this.failure === undefined) {
      // The name only: a message could quote the row it choked on.
      const detail = why instanceof Error ? ` (${why.name}${'code' in why ? ` ${String(why.code)}` : ''})` : '';
      this.failure = new AgencyError(`the import's worker thread stopped${detail}; nothing imported`);
    }
    this.sent.length = 0;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitUntil(fewer: number): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.sent.length <= fewer) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Resolves once the worker holds few enough batches for the reader to go on. */
  ready(): Promise<void> | undefined {
    if (this.failure === undefined && this.sent.length < IN_FLIGHT) return undefined;
    return this.waitUntil(IN_FLIGHT - 1);
  }

  /** Checks and applies every row pushed; the worker is stopped. */
  async finish(): Promise<void> {
    this.dispatch();
    try {
      await this.waitUntil(0);
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.sent.length = 0;
    if (w) await w.terminate();
  }
}
