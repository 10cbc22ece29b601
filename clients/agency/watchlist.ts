// `concordat import`: reads the agency's full current watchlist (CSV or JSON
// Lines), canonicalises every identifier and replaces the stored watchlist in
// one transaction. Row errors name the file, the line and the broken rule —
// never the value, which is a suspect's identifier.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { identifierRowSchema, tryCanonicalize } from '../../protocol/identifiers/index.js';
import type { Store } from '../store/db.js';
import { AgencyError } from '../sdk/errors.js';

export type WatchlistFormat = 'csv' | 'jsonl';

export interface RejectedRow {
  line: number;
  reason: string;
}

export interface ImportOptions {
  defaultCountry?: string;
  strict?: boolean;
  /** Called for every bad row, in file order. */
  onReject?: (r: RejectedRow) => void;
  format?: WatchlistFormat;
}

export interface ImportSummary {
  file: string;
  format: WatchlistFormat;
  /** Data rows read (header and blank lines excluded). */
  rows: number;
  rejected: number;
  /** Distinct (record, kind, canonical) identifiers in the file. */
  identifiers: number;
  records: number;
  added: number;
  withdrawn: number;
  /** False when --strict refused the file. */
  imported: boolean;
}

const REQUIRED_COLUMNS = ['record_id', 'kind', 'value'] as const;

/** Picks the format from the extension, else from the first non-blank character. */
export async function detectFormat(file: string): Promise<WatchlistFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await fh.close();
  }
}

/** Raw rows of a watchlist file with the line each starts on; syntax errors come as rejected rows. */
export type RawRow = { line: number; row: unknown } | { line: number; error: string };

async function* csvRows(file: string): AsyncGenerator<RawRow> {
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      skip_records_with_error: true,
      columns: (header: string[]) => {
        const names = header.map((h) => h.trim().toLowerCase());
        const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
        if (missing.length > 0) {
          throw new AgencyError(`${basename(file)}:1: the header must name the columns ${REQUIRED_COLUMNS.join(',')} (missing: ${missing.join(', ')})`);
        }
        return names;
      },
    }),
  );
  // Records that fail to parse are skipped by csv-parse and reported through
  // 'skip'; their messages may quote the field, so only the code is kept.
  const skipped: RawRow[] = [];
  parser.on('skip', (err: Error & { code?: string; lines?: number }) => {
    skipped.push({ line: err.lines ?? 0, error: `CSV syntax error (${err.code ?? 'unknown'})` });
  });
  try {
    for await (const chunk of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const { record, info } = chunk;
      // info.lines is the line the record ends on; quoted fields may span lines.
      let embedded = 0;
      for (const v of Object.values(record)) if (typeof v === 'string') for (const ch of v) if (ch === '\n') embedded++;
      const line = info.lines - embedded;
      // Skips are emitted while parsing, ahead of buffered records: merge by line to keep file order.
      while (skipped.length > 0 && (skipped[0] as RawRow).line < line) yield skipped.shift() as RawRow;
      yield { line, row: record };
    }
  } catch (e) {
    if (e instanceof AgencyError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    throw new AgencyError(`${basename(file)}:${err.lines ?? '?'}: CSV syntax error (${err.code ?? 'unreadable'}); nothing imported`);
  }
  while (skipped.length > 0) yield skipped.shift() as RawRow;
}

async function* jsonlRows(file: string): AsyncGenerator<RawRow> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of rl) {
    line++;
    const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (text === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      // V8's SyntaxError quotes the offending text; keep it out of the report.
      yield { line, error: 'not a valid JSON object' };
      continue;
    }
    yield { line, row };
  }
}

export async function* readWatchlist(file: string, format: WatchlistFormat): AsyncGenerator<RawRow> {
  yield* format === 'csv' ? csvRows(file) : jsonlRows(file);
}

/** Validates one parsed row; returns the canonical identifier or the reason it was rejected. */
export function checkRow(
  row: unknown,
  defaultCountry: string | undefined,
): { ok: true; recordId: string; kind: string; canonical: string } | { ok: false; reason: string } {
  const r = identifierRowSchema.safeParse(row);
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'row'}: ${i.message}`).join('; ');
    return { ok: false, reason };
  }
  const c = tryCanonicalize(r.data.kind, r.data.value, defaultCountry ? { defaultCountry } : {});
  if (!c.ok) return { ok: false, reason: c.error.message };
  return { ok: true, recordId: r.data.record_id, kind: r.data.kind, canonical: c.canonical };
}

/**
 * Replaces the stored watchlist with the file's. The file is the agency's
 * whole current watchlist: identifiers missing from it are withdrawn (and
 * removed from every pair at the next sync). One transaction: a crash or a
 * --strict refusal leaves the previous watchlist untouched.
 */
export async function importWatchlist(store: Store, file: string, o: ImportOptions = {}): Promise<ImportSummary> {
  const format = o.format ?? (await detectFormat(file));
  const db = store.sqlite;
  const name = basename(file);
  db.exec(
    'CREATE TEMP TABLE IF NOT EXISTS staging (record_id TEXT NOT NULL, kind TEXT NOT NULL, canonical TEXT NOT NULL, PRIMARY KEY (record_id, kind, canonical)) WITHOUT ROWID',
  );
  db.exec('BEGIN IMMEDIATE');
  let committed = false;
  try {
    db.exec('DELETE FROM temp.staging');
    const insert = db.prepare('INSERT OR IGNORE INTO temp.staging (record_id, kind, canonical) VALUES (?, ?, ?)');
    let rows = 0;
    let rejected = 0;
    for await (const r of readWatchlist(file, format)) {
      rows++;
      const checked = 'error' in r ? ({ ok: false, reason: r.error } as const) : checkRow(r.row, o.defaultCountry);
      if (!checked.ok) {
        rejected++;
        o.onReject?.({ line: r.line, reason: checked.reason });
        continue;
      }
      insert.run(checked.recordId, checked.kind, checked.canonical);
    }
    const count = (q: string): number => (db.prepare(q).pluck().get() as number) ?? 0;
    const identifiers = count('SELECT count(*) FROM temp.staging');
    const records = count('SELECT count(DISTINCT record_id) FROM temp.staging');
    const summary: ImportSummary = { file, format, rows, rejected, identifiers, records, added: 0, withdrawn: 0, imported: false };
    if (o.strict && rejected > 0) {
      db.exec('ROLLBACK');
      committed = true;
      return summary;
    }
    const same = 's.record_id = i.record_id AND s.kind = i.kind AND s.canonical = i.canonical';
    summary.added = count(`SELECT count(*) FROM temp.staging s WHERE NOT EXISTS (SELECT 1 FROM identifiers i WHERE ${same})`);
    summary.withdrawn = count(`SELECT count(*) FROM identifiers i WHERE NOT EXISTS (SELECT 1 FROM temp.staging s WHERE ${same})`);
    if (summary.withdrawn > 0) db.exec(`DELETE FROM identifiers AS i WHERE NOT EXISTS (SELECT 1 FROM temp.staging s WHERE ${same})`);
    if (summary.added > 0) db.exec('INSERT OR IGNORE INTO identifiers (record_id, kind, canonical) SELECT record_id, kind, canonical FROM temp.staging');
    db.prepare(
      'INSERT INTO imports (file, imported_at, rows, rejected, identifiers, records, added, withdrawn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(name, new Date().toISOString(), rows, rejected, identifiers, records, summary.added, summary.withdrawn);
    db.exec('DELETE FROM temp.staging');
    db.exec('COMMIT');
    committed = true;
    summary.imported = true;
    return summary;
  } finally {
    if (!committed && db.inTransaction) db.exec('ROLLBACK');
  }
}

export function formatImportSummary(s: ImportSummary): string {
  return (
    `imported ${s.identifiers} identifiers of ${s.records} records; ${s.rejected} rows rejected; ` +
    `${s.added} added, ${s.withdrawn} withdrawn since the last import`
  );
}
