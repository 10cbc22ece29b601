// `concordat import`: reads the agency's full current watchlist (CSV or JSON
// Lines), canonicalises every identifier and replaces the stored watchlist in
// one transaction. All or nothing: a file that cannot be read, decoded or
// parsed, an empty file, a CSV without its header, or one that would withdraw
// more than a set share of the watchlist changes nothing. Rows with a bad
// value are rejected one by one. Errors name the file, the line and the broken
// rule — never the value, which is a suspect's identifier.
//
// Incremental: the lines the last import accepted are kept by digest with the
// identifier each gave (watchlist-cache.ts). A line found again is neither
// parsed nor canonicalised; the withdrawals are the cached lines not found
// again whose identifier no line still gives.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/db.js';
import { AgencyError } from '../sdk/errors.js';
import { RowPipeline, type RowBatch } from './import-pipeline.js';
import type { CheckedRows } from './import-rows.js';
import { derivedDigest, digest128, LineCache } from './watchlist-cache.js';
import { DEFAULT_MAX_WITHDRAWAL_PERCENT } from './withdrawal.js';

export type WatchlistFormat = 'csv' | 'jsonl';

export interface RejectedRow {
  line: number;
  reason: string;
}

export { DEFAULT_MAX_WITHDRAWAL_PERCENT };

export interface ImportOptions {
  defaultCountry?: string;
  strict?: boolean;
  /** Called for every bad row, in file order. */
  onReject?: (r: RejectedRow) => void;
  format?: WatchlistFormat;
  /** A WHATWG encoding label (latin1, windows-1252, utf-16le, …); default: UTF-8, or UTF-16 by its byte order mark. */
  encoding?: string;
  /** Refuse an import that would withdraw more than this share of the stored identifiers (default 20). */
  maxWithdrawalPercent?: number;
  /** Allow any share to be withdrawn. */
  allowMassWithdrawal?: boolean;
  /** How the file is named in messages (default: the path given). */
  label?: string;
  /** Read every line afresh, as if nothing were cached. */
  ignoreCache?: boolean;
  /** Check a large file's rows in a worker thread beside the reading (default true); false keeps it all on this thread. */
  threads?: boolean;
}

export interface ImportSummary {
  file: string;
  format: WatchlistFormat;
  /** The encoding the file was read in (WHATWG name). */
  encoding: string;
  /** Data rows read (header and blank lines excluded). */
  rows: number;
  rejected: number;
  /** Rows the last import read too: not parsed or canonicalised again. */
  unchanged: number;
  /** Distinct (record, kind, canonical) identifiers in the file. */
  identifiers: number;
  records: number;
  added: number;
  withdrawn: number;
  /** False when --strict refused the file. */
  imported: boolean;
}

const REQUIRED_COLUMNS = ['record_id', 'kind', 'value'] as const;
/** Part of the cache context: bump when the way lines are read or checked changes. */
const READER_VERSION = 'concordat-import-1';
const READ_BYTES = 1 << 20;
/** As migration 0000 creates it. */
const IDENTIFIERS_INDEX = 'CREATE INDEX `identifiers_kind_canonical` ON `identifiers` (`kind`,`canonical`)';
const BATCH_ROWS = 8192;
/** SQLite page cache during an import: 8 MiB (negative: KiB); 16 MiB measured no faster at 10^6 rows and 10 MB more at peak. */
const IMPORT_CACHE_SIZE = -8192;

interface Encoding {
  /** WHATWG name. */
  name: string;
  /** Bytes of a byte order mark to skip. */
  bom: number;
  /** Code unit of a newline: 1 byte, or 2 for UTF-16. */
  unit: 1 | 2;
  littleEndian: boolean;
  /** Undefined for UTF-8, which is checked, not decoded. */
  decoder: { decode(input: Uint8Array): string } | undefined;
}

function chooseEncoding(head: Uint8Array, requested: string | undefined): Encoding {
  let name: string;
  if (requested !== undefined) {
    try {
      name = new TextDecoder(requested).encoding;
    } catch {
      throw new AgencyError(`--encoding: unknown encoding ${JSON.stringify(requested)} (for example utf-8, utf-16le, utf-16be, latin1, windows-1252)`);
    }
  } else if (head[0] === 0xff && head[1] === 0xfe) name = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) name = 'utf-16be';
  else name = 'utf-8';
  const bom =
    name === 'utf-8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf
      ? 3
      : (name === 'utf-16le' && head[0] === 0xff && head[1] === 0xfe) || (name === 'utf-16be' && head[0] === 0xfe && head[1] === 0xff)
        ? 2
        : 0;
  const unit = name === 'utf-16le' || name === 'utf-16be' ? 2 : 1;
  return {
    name,
    bom,
    unit,
    littleEndian: name === 'utf-16le',
    decoder: name === 'utf-8' ? undefined : new TextDecoder(name, { fatal: true, ignoreBOM: true }),
  };
}

async function openFile(file: string, label: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be opened (${code ?? 'error'})`;
    throw new AgencyError(`${label}: ${why}; nothing imported`);
  }
  if ((await fh.stat()).isDirectory()) {
    await fh.close();
    throw new AgencyError(`${label}: is a directory, not a watchlist file; nothing imported`);
  }
  return fh;
}

/** Offset just past the last newline of `b` (0 if none). */
function lastNewline(b: Buffer, enc: Encoding): number {
  if (enc.unit === 1) return b.lastIndexOf(0x0a) + 1;
  for (let i = (b.length & ~1) - 2; i >= 0; i -= 2) {
    if (enc.littleEndian ? b[i] === 0x0a && b[i + 1] === 0 : b[i] === 0 && b[i + 1] === 0x0a) return i + 2;
  }
  return 0;
}

/** The lines of a piece that starts at a line start, each with its newline. */
function* rawLines(b: Buffer, enc: Encoding): Generator<Buffer> {
  let s = 0;
  while (s < b.length) {
    let e = s;
    if (enc.unit === 1) {
      const nl = b.indexOf(0x0a, s);
      e = nl < 0 ? b.length : nl + 1;
    } else {
      while (e + 1 < b.length && !(enc.littleEndian ? b[e] === 0x0a && b[e + 1] === 0 : b[e] === 0 && b[e + 1] === 0x0a)) e += 2;
      e = Math.min(b.length, e + 2);
    }
    yield b.subarray(s, e);
    s = e;
  }
}

function badEncoding(label: string, line: number, enc: Encoding): AgencyError {
  const what = enc.name === 'utf-8' ? 'UTF-8' : enc.name;
  const hint =
    enc.name === 'utf-8'
      ? ' If the file was exported in another encoding, name it: --encoding latin1, windows-1252, utf-16le, …'
      : ' Check the --encoding given.';
  return new AgencyError(`${label}:${line}: not valid ${what} text; nothing imported.${hint}`);
}

/** Strict decoding of a line-aligned piece into UTF-8 bytes; `linesBefore` for the error's line. */
function toUtf8(piece: Buffer, enc: Encoding, linesBefore: number, label: string): Buffer {
  if (enc.decoder === undefined) {
    if (isUtf8(piece)) return piece;
  } else {
    try {
      return Buffer.from(enc.decoder.decode(piece), 'utf8');
    } catch {
      // located below
    }
  }
  let n = linesBefore;
  for (const line of rawLines(piece, enc)) {
    n++;
    if (enc.decoder === undefined) {
      if (!isUtf8(line)) throw badEncoding(label, n, enc);
    } else {
      try {
        enc.decoder.decode(line);
      } catch {
        throw badEncoding(label, n, enc);
      }
    }
  }
  throw badEncoding(label, linesBefore + 1, enc);
}

type LineSink = (buf: Buffer, start: number, end: number, line: number) => void;

/** Reads the file strictly decoded, calling `onLine` for each line's UTF-8 bytes (without its newline). */
async function readLines(
  fh: FileHandle,
  label: string,
  requested: string | undefined,
  onLine: LineSink,
  pause: () => Promise<void> | undefined,
): Promise<Encoding> {
  let enc: Encoding | undefined;
  let carry: Buffer | undefined;
  let line = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, READ_BYTES, null));
    } catch (e) {
      throw new AgencyError(`${label}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); nothing imported`);
    }
    let chunk = buf.subarray(0, bytesRead);
    if (enc === undefined) {
      enc = chooseEncoding(chunk, requested);
      chunk = chunk.subarray(enc.bom);
    }
    const eof = bytesRead === 0;
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    const cut = eof ? data.length : lastNewline(data, enc);
    carry = cut < data.length ? data.subarray(cut) : undefined;
    if (cut > 0) {
      const text = toUtf8(data.subarray(0, cut), enc, line, label);
      let s = 0;
      while (s < text.length) {
        const nl = text.indexOf(0x0a, s);
        const e = nl < 0 ? text.length : nl;
        onLine(text, s, e, ++line);
        s = e + 1;
      }
    }
    if (eof) return enc;
    await pause();
  }
}

/** Picks the format from the extension, else from the first non-blank character. */
export async function detectFormat(file: string, encoding?: string): Promise<WatchlistFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const fh = await openFile(file, file);
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const enc = chooseEncoding(head, encoding);
    const text = new TextDecoder(enc.name, { ignoreBOM: true }).decode(head.subarray(enc.bom)).trimStart();
    return text.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------
// What the cache is valid for.

let rulesFingerprint: Promise<string> | undefined;

function packageVersion(specifier: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(specifier));
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name && specifier.startsWith(pkg.name)) return `${pkg.name}@${pkg.version ?? '?'}`;
      } catch {
        // not here
      }
      const up = dirname(dir);
      if (up === dir) return `${specifier}@?`;
      dir = up;
    }
  } catch {
    return `${specifier}@?`;
  }
}

/**
 * A fingerprint of the code canonicalisation runs: the identifiers module's
 * files, the versions of the libraries it calls, and the runtime's Unicode
 * tables (NFKC). A cached canonical form is reused only under the same one.
 */
function canonicalisationFingerprint(): Promise<string> {
  rulesFingerprint ??= (async () => {
    const h = createHash('sha256');
    const dir = fileURLToPath(new URL('../../protocol/identifiers/', import.meta.url));
    for (const f of (await readdir(dir)).filter((x) => /\.(js|ts)$/.test(x) && !x.endsWith('.d.ts')).sort()) {
      h.update(`${f}\0`);
      h.update(await readFile(join(dir, f)));
    }
    for (const p of ['libphonenumber-js', 'any-ascii', '@noble/hashes/sha2.js', '@scure/base', 'zod']) h.update(`${packageVersion(p)}\0`);
    h.update(`unicode ${process.versions.unicode ?? '?'} icu ${process.versions.icu ?? '?'}`);
    return h.digest('hex');
  })();
  return rulesFingerprint;
}

// ---------------------------------------------------------------------------
// Parsing.

/**
 * Where the readers hand their rows, in file order. `digest` is the line's,
 * undefined for a record over several lines (not cached); a view of the
 * reader's own words, valid only during the call.
 */
type RowSink = Pick<RowPipeline, 'push' | 'pushFields'>;

const isBlankByte = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d;

/**
 * A field as csv-parse's `trim` leaves an unquoted one: CR, LF, form feed,
 * space and tab dropped at the start (its ltrim compares bytes), any
 * whitespace at the end (its rtrim is String.prototype.trimEnd).
 */
export function trimField(f: string): string {
  let i = 0;
  for (;;) {
    const c = f.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x0c) i++;
    else break;
  }
  return (i === 0 ? f : f.slice(i)).trimEnd();
}

const CSV_PROBLEMS: Record<string, string> = {
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'the number of fields differs from the header',
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  CSV_INVALID_OPENING_QUOTE: 'a quote inside an unquoted field',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'characters after a closing quote',
};

function csvError(label: string, line: number, e: unknown): AgencyError {
  // csv-parse's messages may quote the record; only the code is kept.
  const code = typeof e === 'string' ? e : e instanceof CsvError ? e.code : 'unreadable';
  return new AgencyError(`${label}:${line}: CSV syntax error: ${CSV_PROBLEMS[code] ?? code}; nothing imported`);
}

/**
 * CSV reader over lines. A line outside a quoted field with an even number of
 * quotes is one whole record: it is looked up in the cache by digest, and
 * parsed (in batches, by csv-parse) only when it is not there. A record over
 * several lines (a quoted newline) is parsed on its own and not cached.
 */
class CsvLines {
  private header: { bytes: Buffer; columns: number; at: [number, number, number]; crlf: boolean } | undefined;
  private quoted: { line: number; parts: Buffer[] } | undefined;
  /** Lines to hand on, in file order: split already, or (`bytes`) left to csv-parse. */
  private batch: Array<{ line: number; bytes: Buffer | undefined; fields: string[] | undefined }> = [];
  headerDigest = '';
  rows = 0;
  unchanged = 0;

  constructor(
    private readonly label: string,
    private readonly cache: LineCache,
    private readonly out: RowSink,
  ) {}

  private readonly d = new Uint32Array(4);
  /** The digests of the batched lines, four words each, in batch order. */
  private readonly digests = new Uint32Array(BATCH_ROWS * 4);

  /** The piece being read, and the next quote and CR in it at or after the current line (-1: none). */
  private piece: Buffer | undefined;
  private nextQuote = -1;
  private nextCr = -1;

  line: LineSink = (buf, s, e, line) => {
    // Quotes and CRs are looked for once per piece, not byte by byte per
    // line: most watchlists have neither, and the lines that do are counted.
    if (buf !== this.piece) {
      this.piece = buf;
      this.nextQuote = buf.indexOf(0x22);
      this.nextCr = buf.indexOf(0x0d);
    }
    if (this.nextQuote >= 0 && this.nextQuote < s) this.nextQuote = buf.indexOf(0x22, s);
    if (this.nextCr >= 0 && this.nextCr < s) this.nextCr = buf.indexOf(0x0d, s);
    let quotes = 0;
    let crs = 0;
    if ((this.nextQuote >= 0 && this.nextQuote < e) || (this.nextCr >= 0 && this.nextCr < e)) {
      for (let i = s; i < e; i++) {
        const c = buf[i] as number;
        if (c === 0x22) quotes++;
        else if (c === 0x0d) crs++;
      }
    }
    let blank = true;
    for (let i = s; i < e && blank; i++) if (!isBlankByte(buf[i] as number)) blank = false;
    if (this.quoted) {
      this.quoted.parts.push(buf.subarray(s, e));
      if (quotes & 1) this.endQuoted();
      return;
    }
    if (blank && quotes === 0) return;
    if (!this.header) return this.readHeader(buf.subarray(s, e), line, quotes);
    if (quotes & 1) {
      this.flush();
      this.quoted = { line, parts: [buf.subarray(s, e)] };
      return;
    }
    this.rows++;
    digest128(buf, s, e, this.d);
    const hit = this.cache.hit(this.d);
    if (hit !== 0) {
      if (hit === 1) this.unchanged++;
      return;
    }
    const header = this.header;
    // Without quotes, and with the record delimiter csv-parse would find
    // (CRLF after a CRLF header, else LF with no CR at all), a record is its
    // fields split at commas, trimmed as csv-parse's trim option does.
    const plain = quotes === 0 && (header.crlf ? crs === 1 && buf[e - 1] === 0x0d : crs === 0);
    if (plain) {
      const fields = buf.toString('utf8', s, header.crlf ? e - 1 : e).split(',');
      if (fields.length !== header.columns) {
        this.flush();
        throw csvError(this.label, line, 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH');
      }
      for (let i = 0; i < fields.length; i++) fields[i] = trimField(fields[i] as string);
      // Nothing waiting for csv-parse before it: handed on at once.
      if (this.batch.length === 0) return this.emit(line, fields, this.d, 0);
      this.digests.set(this.d, this.batch.length * 4);
      this.batch.push({ line, bytes: undefined, fields });
    } else {
      this.digests.set(this.d, this.batch.length * 4);
      this.batch.push({ line, bytes: buf.subarray(s, e), fields: undefined });
    }
    if (this.batch.length >= BATCH_ROWS) this.flush();
  };

  private readHeader(bytes: Buffer, line: number, quotes: number): void {
    if (quotes & 1) throw csvError(this.label, line, 'CSV_QUOTE_NOT_CLOSED');
    let fields: string[] = [];
    try {
      fields = (parseCsv(bytes, { trim: true }) as string[][])[0] ?? [];
    } catch (e) {
      throw csvError(this.label, line, e);
    }
    const names = fields.map((h) => h.trim().toLowerCase());
    const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      throw new AgencyError(
        `${this.label}:${line}: the header must name the columns ${REQUIRED_COLUMNS.join(',')} (missing: ${missing.join(', ')}); nothing imported`,
      );
    }
    // Two columns of one name: which one holds the value would be a guess.
    const twice = REQUIRED_COLUMNS.find((c) => names.indexOf(c) !== names.lastIndexOf(c));
    if (twice !== undefined) {
      throw new AgencyError(`${this.label}:${line}: the header names the column ${twice} more than once; nothing imported`);
    }
    this.header = {
      bytes: Buffer.from(bytes),
      columns: names.length,
      at: [names.indexOf('record_id'), names.indexOf('kind'), names.indexOf('value')],
      // csv-parse takes the first record delimiter it meets, the header's, for the whole file.
      crlf: bytes[bytes.length - 1] === 0x0d,
    };
    this.headerDigest = createHash('sha256').update(bytes).digest('hex');
  }

  /** Hands on a record with its digest (the four words of `digest` from `at`; none for one over several lines). */
  private emit(line: number, fields: string[], digest: Uint32Array | undefined, at: number): void {
    const [r, k, v] = (this.header as NonNullable<CsvLines['header']>).at;
    this.out.pushFields(line, fields[r], fields[k], fields[v], digest, at);
  }

  private parse(parts: Buffer[], firstLine: (inputLine: number) => number, info: boolean): unknown[] {
    const header = this.header as NonNullable<CsvLines['header']>;
    const nl = Buffer.from('\n');
    const input = Buffer.concat([header.bytes, ...parts.flatMap((p) => [nl, p]), nl]);
    try {
      return (parseCsv(input, { trim: true, skip_empty_lines: true, info }) as unknown[]).slice(1);
    } catch (e) {
      const lines = (e as { lines?: unknown } | undefined)?.lines;
      const at = e instanceof CsvError && typeof lines === 'number' ? lines : 2;
      throw csvError(this.label, firstLine(Math.max(2, at)), e);
    }
  }

  /** Parses (where needed) and hands on the batched single-line records. */
  flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const left = batch.filter((b) => b.fields === undefined);
    if (left.length > 0) {
      const records = this.parse(
        left.map((b) => b.bytes as Buffer),
        (l) => (left[Math.min(l - 2, left.length - 1)] as { line: number }).line,
        false,
      ) as string[][];
      left.forEach((b, i) => {
        b.fields = records[i];
      });
    }
    batch.forEach((b, i) => this.emit(b.line, b.fields as string[], this.digests, i * 4));
  }

  private endQuoted(): void {
    const q = this.quoted as NonNullable<CsvLines['quoted']>;
    this.quoted = undefined;
    const records = this.parse(q.parts, (l) => q.line + l - 2, true) as Array<{ record: string[] }>;
    for (const r of records) {
      this.rows++;
      this.emit(q.line, r.record, undefined, 0);
    }
  }

  /** At the end of the file: true when it held a header. */
  end(): boolean {
    if (this.quoted) throw csvError(this.label, this.quoted.line, 'CSV_QUOTE_NOT_CLOSED');
    this.flush();
    return this.header !== undefined;
  }
}

/** JSON Lines reader: one object per line, looked up in the cache by digest first. */
class JsonLines {
  rows = 0;
  unchanged = 0;
  headerDigest = '';
  private readonly d = new Uint32Array(4);

  constructor(
    private readonly label: string,
    private readonly cache: LineCache,
    private readonly out: RowSink,
  ) {}

  line: LineSink = (buf, s, e, line) => {
    let blank = true;
    for (let i = s; i < e && blank; i++) if (!isBlankByte(buf[i] as number)) blank = false;
    if (blank) return;
    this.rows++;
    digest128(buf, s, e, this.d);
    const hit = this.cache.hit(this.d);
    if (hit !== 0) {
      if (hit === 1) this.unchanged++;
      return;
    }
    let row: unknown;
    try {
      row = JSON.parse(buf.toString('utf8', s, e));
    } catch {
      // V8's SyntaxError quotes the offending text; keep it out of the message.
      throw new AgencyError(`${this.label}:${line}: not a valid JSON object (JSON Lines: one object per line); nothing imported`);
    }
    this.out.push(line, row, this.d);
  };

  end(): boolean {
    return this.rows > 0;
  }
}

// ---------------------------------------------------------------------------
// The import.

/** Rows per INSERT statement of {@link BulkInsert}: below SQLite's default limit of 32,766 bound parameters. */
const INSERT_ROWS = 128;

/**
 * INSERT OR IGNORE of (record_id, kind, canonical) rows, INSERT_ROWS per
 * statement: a statement run costs about as much as the rows it inserts
 * (binding, and the triggers on `identifiers`), so rows go in bunches.
 */
class BulkInsert {
  private readonly many: Statement;
  private readonly one: Statement;
  private readonly params: string[] = [];
  changes = 0;

  constructor(db: Store['sqlite'], table: 'identifiers' | 'temp.staging') {
    const sql = (n: number) => `INSERT OR IGNORE INTO ${table} (record_id, kind, canonical) VALUES ${Array(n).fill('(?, ?, ?)').join(', ')}`;
    this.many = db.prepare(sql(INSERT_ROWS));
    this.one = db.prepare(sql(1));
  }

  add(recordId: string, kind: string, canonical: string): void {
    this.params.push(recordId, kind, canonical);
    if (this.params.length === INSERT_ROWS * 3) {
      this.changes += this.many.run(this.params).changes;
      this.params.length = 0;
    }
  }

  /** Inserts what is left; the rows inserted (not ignored) in all. */
  end(): number {
    for (let i = 0; i < this.params.length; i += 3) this.changes += this.one.run(this.params[i], this.params[i + 1], this.params[i + 2]).changes;
    this.params.length = 0;
    return this.changes;
  }
}

/**
 * Sets the watchlist changelog's triggers (drizzle-client/0008) aside for
 * this transaction when no side holds a delta watermark: such sides diff the
 * whole watchlist at their next sync, so itemising every row of a large
 * import would only cost time (about a second per million rows). The
 * returned function puts the triggers back, exactly as stored, and advances
 * the changelog's position once if anything changed, which is all a reader
 * asking "has the watchlist changed?" (results.ts) looks at. A rollback
 * undoes both.
 */
function suspendChangelog(db: Store['sqlite']): ((changed: boolean) => void) | undefined {
  if (db.prepare('SELECT 1 FROM sides WHERE delta_seq IS NOT NULL LIMIT 1').get() !== undefined) return undefined;
  const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'identifiers'").all() as Array<{ name: string; sql: string }>;
  for (const t of triggers) db.exec(`DROP TRIGGER "${t.name.replaceAll('"', '""')}"`);
  return (changed) => {
    for (const t of triggers) db.exec(t.sql);
    if (!changed) return;
    db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'identifier_changes', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'identifier_changes')").run();
    db.prepare("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'identifier_changes'").run();
  };
}

/**
 * Sizes an empty line cache for the file: its lines estimated from the
 * first 64 KiB (a read at an offset, which leaves the reading position as it
 * is), with a twentieth to spare. Only a hint: the cache still grows if the
 * file holds more.
 */
async function reserveFor(cache: LineCache, fh: FileHandle): Promise<void> {
  const size = (await fh.stat()).size;
  if (size < 1 << 20) return;
  const head = Buffer.allocUnsafe(1 << 16);
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  let lines = 0;
  for (let i = head.indexOf(0x0a); i >= 0 && i < bytesRead; i = head.indexOf(0x0a, i + 1)) lines++;
  if (lines === 0) return;
  const estimate = Math.ceil(((size / bytesRead) * lines * 21) / 20);
  cache.reserve(estimate, Math.ceil((size * 21) / 20));
}

const count = (store: Store, q: string): number => (store.sqlite.prepare(q).pluck().get() as number) ?? 0;

/** The stored cache, if it was written with `identifiers` stored identifiers (the store as the last import left it). */
function loadCache(store: Store, identifiers: number): LineCache | undefined {
  const meta = store.sqlite.prepare('SELECT entries, identifiers FROM import_cache WHERE id = 1').get() as { entries: number; identifiers: number } | undefined;
  if (!meta || meta.identifiers !== identifiers) return undefined;
  const chunks = store.sqlite
    .prepare('SELECT c.entries, c.data, d.dead FROM import_cache_chunks c LEFT JOIN import_cache_dead d ON d.idx = c.idx ORDER BY c.idx')
    .all() as Array<{
    entries: number;
    data: Buffer;
    dead: Buffer | null;
  }>;
  return LineCache.load(chunks, meta.entries);
}

/**
 * Replaces the stored watchlist with the file's. The file is the agency's
 * whole current watchlist: identifiers missing from it are withdrawn (and
 * removed from every pair at the next sync). One transaction: a crash, a
 * refusal or a --strict refusal leaves the previous watchlist untouched.
 */
export async function importWatchlist(store: Store, file: string, o: ImportOptions = {}): Promise<ImportSummary> {
  const label = o.label ?? file;
  const maxPercent = o.maxWithdrawalPercent ?? DEFAULT_MAX_WITHDRAWAL_PERCENT;
  if (!(maxPercent >= 0 && maxPercent <= 100)) throw new AgencyError('--max-withdrawal: expected a percentage from 0 to 100');
  const fh = await openFile(file, label);
  const db = store.sqlite;
  let pipeline: RowPipeline | undefined;
  try {
    const format = o.format ?? (await detectFormat(file, o.encoding));
    const fingerprint = await canonicalisationFingerprint();
    // The page cache the store opens with is sized for sync's random token
    // writes; an import writes mostly in key order and needs far less, and
    // its peak memory is what a nightly job on a small machine is sized by.
    const cacheSize = db.pragma('cache_size', { simple: true }) as number;
    db.pragma(`cache_size = ${IMPORT_CACHE_SIZE}`);
    db.exec('BEGIN IMMEDIATE');
    try {
      const before = count(store, 'SELECT count(*) FROM identifiers');
      // The context's header part is known only once the header is read: the
      // cache is keyed without it and checked against it afterwards.
      const base = { v: READER_VERSION, format, encoding: o.encoding ?? 'auto', defaultCountry: o.defaultCountry ?? null, rules: fingerprint };
      const stored = db.prepare('SELECT context FROM import_cache WHERE id = 1').pluck().get() as string | undefined;
      const storedBase = stored ? (JSON.parse(stored) as { base?: unknown; header?: string }) : undefined;
      let cache =
        !o.ignoreCache && storedBase && JSON.stringify(storedBase.base) === JSON.stringify(base) ? loadCache(store, before) : undefined;
      const cached = cache !== undefined;
      if (cache === undefined) {
        cache = LineCache.empty();
        await reserveFor(cache, fh);
      }
      // With a valid cache, or nothing stored, new identifiers go straight into
      // the watchlist; otherwise the whole file is staged and compared.
      const direct = cached || before === 0;
      if (!direct) {
        db.exec(
          'CREATE TEMP TABLE IF NOT EXISTS staging (record_id TEXT NOT NULL, kind TEXT NOT NULL, canonical TEXT NOT NULL, PRIMARY KEY (record_id, kind, canonical)) WITHOUT ROWID',
        );
        db.exec('DELETE FROM temp.staging');
      }
      // Loading a whole watchlist into an empty store: the (kind, canonical)
      // index is built once at the end (a sort) instead of row by row.
      const bulk = before === 0 && (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'identifiers_kind_canonical'").get() ?? false);
      if (bulk) db.exec('DROP INDEX identifiers_kind_canonical');
      const resumeChangelog = suspendChangelog(db);
      const insert = new BulkInsert(db, direct ? 'identifiers' : 'temp.staging');
      // Derived keys are counted apart: the summary, and the withdrawal limit,
      // speak of the identifiers the file holds.
      const insertDerived = new BulkInsert(db, direct ? 'identifiers' : 'temp.staging');
      const derivedBefore = count(store, "SELECT count(*) FROM identifiers WHERE kind = 'name_dob_phonetic'");
      let rejected = 0;
      const lineCache = cache;
      const scratch = new Uint32Array(4);
      const apply = (b: RowBatch, c: CheckedRows): void => {
        let s = 0;
        for (let i = 0; i < b.lines.length; i++) {
          const keys = c.counts[i] as number;
          const at = s;
          s += keys < 0 ? 1 : 3 + keys;
          const d = b.hasDigest[i] === 1;
          const w = i * 4;
          if (d && lineCache.find(b.digests, w) >= 0) continue; // the same line again
          if (keys < 0) {
            rejected++;
            o.onReject?.({ line: b.lines[i] as number, reason: c.strings[at] as string });
            continue;
          }
          const recordId = c.strings[at] as string;
          const kind = c.strings[at + 1] as string;
          const canonical = c.strings[at + 2] as string;
          if (d) lineCache.add(b.digests, recordId, kind, canonical, w);
          insert.add(recordId, kind, canonical);
          // name_dob rows also give the derived name_dob_phonetic keys (SPEC.md);
          // an agreement that lists the kind uploads them, others never read them.
          for (let j = 1; j <= keys; j++) {
            const key = c.strings[at + 2 + j] as string;
            if (d) lineCache.add(derivedDigest(b.digests, j, scratch, w), recordId, 'name_dob_phonetic', key);
            insertDerived.add(recordId, 'name_dob_phonetic', key);
          }
        }
      };
      pipeline = new RowPipeline(apply, o.defaultCountry, o.threads ?? true);
      const rows = pipeline;
      const reader = format === 'csv' ? new CsvLines(label, cache, rows) : new JsonLines(label, cache, rows);
      const enc = await readLines(fh, label, o.encoding, reader.line, () => rows.ready());
      const hadHeader = reader.end();
      await rows.finish();
      if (!hadHeader) {
        throw new AgencyError(
          format === 'csv'
            ? `${label}: the file is empty (no header ${REQUIRED_COLUMNS.join(',')}); nothing imported`
            : `${label}: the file is empty; nothing imported`,
        );
      }
      let added = insert.end();
      let derivedAdded = insertDerived.end();
      const context = JSON.stringify({ base, header: reader.headerDigest });
      if (cached && stored !== context) {
        // Another header (column order): start again without the cache.
        db.exec('ROLLBACK');
        await fh.close().catch(() => {});
        return importWatchlist(store, file, { ...o, ignoreCache: true });
      }

      if (bulk) db.exec(IDENTIFIERS_INDEX);
      let withdrawn = 0;
      let derivedWithdrawn = 0;
      if (direct) {
        const del = db.prepare('DELETE FROM identifiers WHERE record_id = ? AND kind = ? AND canonical = ?');
        for (const [r, k, c] of cache.withdrawn()) {
          const n = del.run(r, k, c).changes;
          if (k === 'name_dob_phonetic') derivedWithdrawn += n;
          else withdrawn += n;
        }
      } else {
        const same = 's.record_id = i.record_id AND s.kind = i.kind AND s.canonical = i.canonical';
        const gone = (derived: boolean): number =>
          db.prepare(`DELETE FROM identifiers AS i WHERE i.kind ${derived ? '=' : '<>'} 'name_dob_phonetic' AND NOT EXISTS (SELECT 1 FROM temp.staging s WHERE ${same})`).run().changes;
        const put = (derived: boolean): number =>
          db.prepare(`INSERT OR IGNORE INTO identifiers (record_id, kind, canonical) SELECT record_id, kind, canonical FROM temp.staging WHERE kind ${derived ? '=' : '<>'} 'name_dob_phonetic'`).run().changes;
        withdrawn = gone(false);
        derivedWithdrawn = gone(true);
        added = put(false);
        derivedAdded = put(true);
        db.exec('DELETE FROM temp.staging');
      }
      resumeChangelog?.(added + withdrawn + derivedAdded + derivedWithdrawn > 0);
      // Every row added or withdrawn was counted by SQLite's changes().
      const identifiers = before - derivedBefore + added - withdrawn;
      const derivedNow = derivedBefore + derivedAdded - derivedWithdrawn;
      const records = count(store, 'SELECT count(DISTINCT record_id) FROM identifiers');
      const summary: ImportSummary = {
        file,
        format,
        encoding: enc.name,
        rows: reader.rows,
        rejected,
        unchanged: reader.unchanged,
        identifiers,
        records,
        added,
        withdrawn,
        imported: false,
      };
      if (o.strict && rejected > 0) {
        db.exec('ROLLBACK');
        return summary;
      }
      const held = before - derivedBefore;
      if (!o.allowMassWithdrawal && held > 0 && withdrawn * 100 > held * maxPercent) {
        const share = ((withdrawn * 100) / held).toFixed(1);
        throw new AgencyError(
          `${label}: this import would withdraw ${withdrawn} of the ${held} stored identifiers (${share} %), more than ` +
            `--max-withdrawal ${maxPercent} %; nothing imported. If the file is right, import it again with --allow-mass-withdrawal`,
        );
      }
      // A file read whole from the cache leaves the stored chunks as they are;
      // one that changed a little marks its withdrawn lines dead and appends
      // its new ones; anything else rewrites the chunks.
      let entries = cache.live();
      const put = db.prepare('INSERT INTO import_cache_chunks (idx, entries, data) VALUES (?, ?, ?)');
      if (cached && cache.same()) entries = cache.old;
      else if (cached && cache.appendable()) {
        const mark = db.prepare('INSERT INTO import_cache_dead (idx, dead) VALUES (?, ?) ON CONFLICT (idx) DO UPDATE SET dead = excluded.dead');
        for (const m of cache.deadMaps()) mark.run(m.index, m.dead);
        let idx = db.prepare('SELECT count(*) FROM import_cache_chunks').pluck().get() as number;
        for (const c of cache.chunks(cache.old)) put.run(idx++, c.entries, c.data);
        entries = cache.storedAfterAppend();
      } else {
        db.prepare('DELETE FROM import_cache_chunks').run();
        db.prepare('DELETE FROM import_cache_dead').run();
        let idx = 0;
        for (const c of cache.chunks()) put.run(idx++, c.entries, c.data);
      }
      db.prepare(
        'INSERT INTO import_cache (id, context, entries, identifiers) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET context = excluded.context, entries = excluded.entries, identifiers = excluded.identifiers',
      ).run(context, entries, identifiers + derivedNow);
      db.prepare(
        'INSERT INTO imports (file, imported_at, rows, rejected, identifiers, records, added, withdrawn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(basename(file), new Date().toISOString(), summary.rows, rejected, identifiers, records, added, withdrawn);
      db.exec('COMMIT');
      summary.imported = true;
      return summary;
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.pragma(`cache_size = ${cacheSize}`);
    }
  } finally {
    await pipeline?.close();
    await fh.close().catch(() => {});
  }
}

export function formatImportSummary(s: ImportSummary): string {
  return (
    `imported ${s.identifiers} identifiers of ${s.records} records; ${s.rejected} rows rejected; ` +
    `${s.added} added, ${s.withdrawn} withdrawn since the last import`
  );
}
