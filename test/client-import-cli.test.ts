// `concordat import` as operators run it (the built binary in a child
// process): every file that cannot be read, decoded or parsed, and every
// import that would withdraw too much, is refused as a whole with a message
// naming the file and line, exit 1, and the store exactly as it was.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'concordat.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let work: string;
let dir: string;

/** Every table import writes, as it is. */
function snapshot(): unknown {
  const db = new Database(join(dir, 'agency.db'), { readonly: true });
  try {
    return ['identifiers', 'imports', 'import_cache', 'import_cache_chunks', 'import_cache_dead'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY ${t === 'import_cache_dead' ? '1' : '1, 2, 3'}`).raw().all());
  } finally {
    db.close();
  }
}

const SECRET = 'ZZSECRET42';
const people = (n: number) => Array.from({ length: n }, (_, i) => `ES-${i},email,person${i}@mail.example`);
const csv = (rows: string[]) => `record_id,kind,value\n${rows.join('\n')}\n`;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'clients', 'cli', 'main.js'))) throw new Error('the build output is missing: run `npm run build`');
  work = mkdtempSync(join(tmpdir(), 'concordat-import-cli-'));
  dir = join(work, 'ES-CNP');
  expect((await cli(['init', '--dir', dir, '--agency', 'ES-CNP', '--coordinator', 'http://127.0.0.1:1'])).code).toBe(0);
  const f = join(work, 'start.csv');
  writeFileSync(f, csv([...people(20), 'ES-0,name_dob,Müller Hans|1970-01-01']));
  const r = await cli(['import', '--dir', dir, f]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('concordat import refuses a whole file (built binary)', () => {
  const refusals: Array<[string, string | Buffer, RegExp, string[]?]> = [
    ['empty.csv', '', /empty\.csv: the file is empty/],
    ['quote.csv', csv([...people(19), `ES-99,email,"${SECRET}@mail.example`]), /quote\.csv:21: CSV syntax error: a quoted field is never closed; nothing imported/],
    ['columns.csv', csv([...people(19), `ES-99,email,${SECRET}@mail.example,extra`]), /columns\.csv:21: CSV syntax error: the number of fields differs from the header/],
    ['latin1.csv', Buffer.from(csv([...people(20), 'ES-0,name_dob,Müller Hans|1970-01-01']), 'latin1'), /latin1\.csv:22: not valid UTF-8 text; nothing imported\. .*--encoding latin1/],
    ['noheader.csv', people(20).join('\n'), /noheader\.csv:1: the header must name the columns record_id,kind,value/],
    ['broken.jsonl', `{"record_id":"ES-1","kind":"email","value":"${SECRET}"\n`, /broken\.jsonl:1: not a valid JSON object/],
    ['half.csv', csv(people(10)), /half\.csv: this import would withdraw 11 of the 21 stored identifiers \(52\.4 %\), more than --max-withdrawal 20 %.*--allow-mass-withdrawal/],
    ['half2.csv', csv(people(10)), /withdraw 11 of the 21 .*more than --max-withdrawal 50 %/, ['--max-withdrawal', '50']],
  ];
  for (const [name, text, message, extra] of refusals) {
    it(`${name}: exit 1, a message naming the file and line, the store unchanged`, async () => {
      const f = join(work, name);
      writeFileSync(f, text);
      const before = snapshot();
      const r = await cli(['import', '--dir', dir, f, ...(extra ?? [])]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr).not.toMatch(/\n\s+at |Unhandled/);
      expect(r.stdout).toBe('');
      expect(snapshot()).toEqual(before);
    });
  }

  it('a missing file: a one-line message, no stack trace, the store unchanged', async () => {
    const before = snapshot();
    const r = await cli(['import', '--dir', dir, join(work, 'nosuch.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`concordat: ${join(work, 'nosuch.csv')}: no such file; nothing imported`);
    expect(snapshot()).toEqual(before);
  });

  it('imports UTF-16 with a byte order mark and --encoding latin1 as it does UTF-8', async () => {
    const text = csv([...people(20), 'ES-0,name_dob,Müller Hans|1970-01-01']);
    const want = snapshot() as unknown[][];
    const le = join(work, 'utf16.csv');
    writeFileSync(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const a = await cli(['import', '--dir', dir, le]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/imported 21 identifiers of 20 records; 0 rows rejected; 0 added, 0 withdrawn/);
    expect((snapshot() as unknown[][])[0]).toEqual(want[0]);
    const l1 = join(work, 'legacy.csv');
    writeFileSync(l1, Buffer.from(text, 'latin1'));
    const b = await cli(['import', '--dir', dir, l1, '--encoding', 'latin1']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/0 added, 0 withdrawn/);
    expect((snapshot() as unknown[][])[0]).toEqual(want[0]);
    expect(JSON.stringify(want[0])).toContain('HANS MULLER|1970-01-01');
  });

  it('withdraws a large share only with --allow-mass-withdrawal', async () => {
    const f = join(work, 'small.csv');
    writeFileSync(f, csv(people(5)));
    const r = await cli(['import', '--dir', dir, f, '--allow-mass-withdrawal']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported 5 identifiers of 5 records; 0 rows rejected; 0 added, 16 withdrawn/);
  });
});
