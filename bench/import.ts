// `npm run bench -- import [--rows N] [--json]`: `concordat import` of a
// generated CSV watchlist of N rows (default 10^6: records with a passport, an
// e-mail address and a phone number each), then the same file with 1 % of its
// rows changed. Each import runs in its own process (this module with
// `--child`), which reports its wall time and peak RSS
// (process.resourceUsage().maxRSS), so the figures are the import's alone.
// Targets for 10^6 rows: first import ≤ 10 s, 1 % churn ≤ 3 s, peak RSS ≤ 300 MB.
// Beside them, the floor of the same run (`--floor`): the file read and its
// raw rows written by SQLite alone into a fresh store of the same schema, the
// way the import writes them (one transaction, 128 rows per statement, the
// secondary index built at the end), with no decoding checks, no
// canonicalisation and no line cache.
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initAgency } from '../clients/agency/config.js';
import { importWatchlist, type ImportSummary } from '../clients/agency/watchlist.js';
import { openStore } from '../clients/store/db.js';

const run = promisify(execFile);

interface Step {
  seconds: number;
  /** User and system CPU time of the import's process: on a shared machine, wall time also counts the others' work. */
  cpu_seconds: number;
  rows_per_s: number;
  peak_rss_mb: number;
  unchanged: number;
  added: number;
  withdrawn: number;
}

/** Row i of the watchlist; rows listed in `changed` carry another (valid) value. */
function row(i: number, changed: boolean): string {
  const p = Math.floor(i / 3);
  const id = `ES-CNP-${p}`;
  const v = changed ? p + 50_000_000 : p;
  switch (i % 3) {
    case 0:
      return `${id},passport,ESP:P${String(v).padStart(8, '0')}`;
    case 1:
      return `${id},email,person${v}@bench.example`;
    default:
      return `${id},phone,+3460${String(v % 10_000_000).padStart(7, '0')}`;
  }
}

async function writeWatchlist(file: string, rows: number, churn: number): Promise<void> {
  const out = createWriteStream(file);
  const every = churn > 0 ? Math.round(1 / churn) : 0;
  let buf = 'record_id,kind,value\n';
  for (let i = 0; i < rows; i++) {
    buf += `${row(i, every > 0 && i % every === every - 1)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(buf, () => resolve()).on('error', reject));
}

async function child(dir: string, file: string): Promise<void> {
  const store = openStore(dir);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let s: ImportSummary;
  try {
    s = await importWatchlist(store, file);
  } finally {
    store.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  process.stdout.write(`${JSON.stringify({ seconds, cpu_seconds: (c.user + c.system) / 1e6, peak_rss_mb: process.resourceUsage().maxRSS / 1024, summary: s })}\n`);
}

/** The SQLite floor: the raw rows of `file` into the empty store of `dir`. */
function floorChild(dir: string, file: string): void {
  const store = openStore(dir);
  const db = store.sqlite;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const sql = (n: number) => `INSERT OR IGNORE INTO identifiers (record_id, kind, canonical) VALUES ${Array(n).fill('(?, ?, ?)').join(', ')}`;
  const many = db.prepare(sql(128));
  const one = db.prepare(sql(1));
  const index = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'identifiers_kind_canonical'").pluck().get() as string;
  const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'identifiers'").all() as Array<{ name: string; sql: string }>;
  db.exec('BEGIN IMMEDIATE');
  db.exec('DROP INDEX identifiers_kind_canonical');
  for (const t of triggers) db.exec(`DROP TRIGGER ${t.name}`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const params: string[] = [];
  let rows = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const [r, k, v] = line.split(',') as [string, string, string];
    params.push(r, k, v);
    rows++;
    if (params.length === 384) {
      many.run(params);
      params.length = 0;
    }
  }
  for (let i = 0; i < params.length; i += 3) one.run(params[i], params[i + 1], params[i + 2]);
  db.exec(index);
  for (const t of triggers) db.exec(t.sql);
  db.exec('COMMIT');
  store.close();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  process.stdout.write(`${JSON.stringify({ seconds, cpu_seconds: (c.user + c.system) / 1e6, peak_rss_mb: process.resourceUsage().maxRSS / 1024, rows })}\n`);
}

async function floor(dir: string, file: string, rows: number): Promise<{ seconds: number; cpu_seconds: number; rows_per_s: number }> {
  const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--floor', dir, file], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as { seconds: number; cpu_seconds: number };
  return { seconds: Number(r.seconds.toFixed(2)), cpu_seconds: Number(r.cpu_seconds.toFixed(2)), rows_per_s: Math.round(rows / r.seconds) };
}

async function step(dir: string, file: string, rows: number): Promise<Step> {
  const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, file], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as { seconds: number; cpu_seconds: number; peak_rss_mb: number; summary: ImportSummary };
  return {
    seconds: Number(r.seconds.toFixed(2)),
    cpu_seconds: Number(r.cpu_seconds.toFixed(2)),
    rows_per_s: Math.round(rows / r.seconds),
    peak_rss_mb: Math.round(r.peak_rss_mb),
    unchanged: r.summary.unchanged,
    added: r.summary.added,
    withdrawn: r.summary.withdrawn,
  };
}

export async function benchImport(rows: number, log: (s: string) => void): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'concordat-bench-import-'));
  try {
    const dir = initAgency({ dir: join(work, 'ES-CNP'), agency: 'ES-CNP', coordinator: 'http://127.0.0.1:1' }).dir;
    const first = join(work, 'watchlist.csv');
    const second = join(work, 'watchlist-churn.csv');
    await writeWatchlist(first, rows, 0);
    await writeWatchlist(second, rows, 0.01);
    log(`import: ${rows} rows (passport, email, phone per record), then 1 % of the rows changed`);
    const floorDir = initAgency({ dir: join(work, 'floor'), agency: 'ES-CNP', coordinator: 'http://127.0.0.1:1' }).dir;
    const f = await floor(floorDir, first, rows);
    log(`SQLite floor:      ${f.seconds} s (CPU ${f.cpu_seconds} s), ${f.rows_per_s} rows/s: the raw rows written, nothing checked or cached`);
    const a = await step(dir, first, rows);
    log(`first import:      ${a.seconds} s (CPU ${a.cpu_seconds} s), ${a.rows_per_s} rows/s, peak RSS ${a.peak_rss_mb} MB; ${(a.seconds / f.seconds).toFixed(2)}× the floor`);
    const b = await step(dir, second, rows);
    log(`1 % churn:         ${b.seconds} s (CPU ${b.cpu_seconds} s), ${b.rows_per_s} rows/s, peak RSS ${b.peak_rss_mb} MB (${b.unchanged} rows unchanged, ${b.added} added, ${b.withdrawn} withdrawn)`);
    const c = await step(dir, second, rows);
    log(`same file again:   ${c.seconds} s (CPU ${c.cpu_seconds} s), ${c.rows_per_s} rows/s, peak RSS ${c.peak_rss_mb} MB`);
    return { rows, first_s: a.seconds, churn_s: b.seconds, floor_s: f.seconds, first_to_floor: Number((a.seconds / f.seconds).toFixed(2)), floor: f, peak_rss_mb: Math.max(a.peak_rss_mb, b.peak_rss_mb, c.peak_rss_mb), first_import: a, churn_1pct: b, unchanged_file: c };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--floor' && process.argv[1] === fileURLToPath(import.meta.url)) floorChild(process.argv[3] as string, process.argv[4] as string);
if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  await child(process.argv[3] as string, process.argv[4] as string);
}
