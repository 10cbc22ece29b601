// `npm run bench -- query [--size 100000] [--queries 200] [--json]`: targeted
// single-value queries on loopback with the partner's responder online
// (`concordat serve` in its own process) against a partner set of --size
// records. The requester runs in this process through the client library, so
// the figures are the query round trip (blind, relay, evaluate + prove,
// verify, unblind, token lookup, outcome), not process start-up.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAgency } from '../clients/agency/config.js';
import { createQuery, followQuery, type QueryContext } from '../clients/agency/query.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { openStore } from '../clients/store/db.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { loadEngine } from '../protocol/engine/index.js';
import { median } from './util.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/concordat.js', import.meta.url));

export interface QueryBenchResult {
  partner_set_size: number;
  queries: number;
  hits: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  qps: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function waitFor(child: ChildProcess, re: RegExp, what: string): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    // Once found, the child's later output is dropped unread: rescanning a
    // growing log on every line cost this process more than the query itself.
    let found = false;
    const on = (b: Buffer): void => {
      if (found) return;
      seen = (seen + b.toString()).slice(-65536);
      const m = re.exec(seen);
      if (m) {
        found = true;
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (c) => reject(new Error(`${what} exited ${c}: ${seen.slice(-2000)}`)));
  });
}

export async function benchQuery(size: number, queries: number, log: (s: string) => void): Promise<QueryBenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'concordat-bench-query-'));
  const children: ChildProcess[] = [];
  try {
    await run(BIN, ['coordinator', 'init', '--data', join(work, 'coord')]);
    const server = spawn(BIN, ['coordinator', 'serve', '--data', join(work, 'coord'), '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(server);
    const url = await waitFor(server, /listening on (http:\/\/[\d.]+:\d+)/, 'coordinator');
    const admin = ['coordinator', 'admin', '--url', url, '--admin-key', join(work, 'coord', 'admin.key')];
    for (const [id, country] of [['ES-CNP', 'ESP'], ['PT-PJ', 'PRT']] as const) {
      await run(BIN, ['init', '--dir', join(work, id), '--agency', id, '--coordinator', url]);
      await run(BIN, [...admin, 'agency', 'add', '--id', id, '--name', id, '--country', country, '--key', join(work, id, 'signing.pub')]);
    }
    await run(BIN, [...admin, 'agreement', 'add', '--id', 'bench', '--parties', 'ES-CNP,PT-PJ', '--kinds', 'passport', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'bench', '--queries-per-day', String(queries + 100), '--max-set-size', String(size + 1000)]);
    for (const id of ['ES-CNP', 'PT-PJ']) await run(BIN, ['agreements', 'accept', 'bench', '--dir', join(work, id), '--officer', 'bench', '--yes']);
    const passport = (i: number): string => `ESP:Q${String(i).padStart(8, '0')}`;
    // PT holds the partner set; ES a small set (its own watchlist is not what is measured).
    const csv = (prefix: string, ids: number[]): string => `record_id,kind,value\n${ids.map((i) => `${prefix}-${i},passport,${passport(i)}`).join('\n')}\n`;
    writeFileSync(join(work, 'pt.csv'), csv('PT', Array.from({ length: size }, (_, i) => i)));
    writeFileSync(join(work, 'es.csv'), csv('ES', Array.from({ length: 100 }, (_, i) => size + i)));
    await run(BIN, ['import', '--dir', join(work, 'PT-PJ'), join(work, 'pt.csv')]);
    await run(BIN, ['import', '--dir', join(work, 'ES-CNP'), join(work, 'es.csv')]);
    log(`syncing a partner set of ${size} …`);
    for (let r = 0; r < 2; r++) for (const a of ['ES-CNP', 'PT-PJ']) await run(BIN, ['sync', '--dir', join(work, a)], { maxBuffer: 64 << 20 });

    const responder = spawn(BIN, ['serve', '--dir', join(work, 'PT-PJ'), '--sync-every', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(responder);
    await new Promise((r) => setTimeout(r, 1500));

    const agency = loadAgency(join(work, 'ES-CNP'));
    const store = openStore(agency.dir);
    const ctx: QueryContext = { agency, store, client: agencyClient(agency), engine: await loadEngine() };
    const me = await ctx.client.me();
    const times: number[] = [];
    let hits = 0;
    const t0 = performance.now();
    try {
      for (let q = 0; q < queries + 5; q++) {
        // Half hits, half misses.
        const value = q % 2 === 0 ? passport((q * 7919) % size) : passport(size + 10_000 + q);
        const t = performance.now();
        const id = await createQuery(ctx, { partners: ['PT-PJ'], kind: 'passport', purpose: 'terrorism', caseRef: `BENCH-${q}`, officer: 'bench' }, [canonicalize('passport', value)], me);
        // Fresh, as the CLI and the console follow a query they just created: the first read waits for answers.
        const report = await followQuery(ctx, id, 30, { fresh: true });
        const dt = performance.now() - t;
        const leg = report.legs[0];
        if (!leg || leg.state !== 'done') throw new Error(`query ${q}: leg ${leg?.state ?? 'missing'} ${leg?.error ?? ''}`);
        if (q >= 5) {
          times.push(dt);
          if (leg.results?.[0]?.hit) hits++;
        }
      }
    } finally {
      store.close();
    }
    const wall = (performance.now() - t0) / 1000;
    const sorted = [...times].sort((a, b) => a - b);
    const r: QueryBenchResult = {
      partner_set_size: size,
      queries,
      hits,
      p50_ms: Number(median(sorted).toFixed(1)),
      p90_ms: Number(percentile(sorted, 90).toFixed(1)),
      p99_ms: Number(percentile(sorted, 99).toFixed(1)),
      max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)),
      qps: Number((queries / wall).toFixed(1)),
    };
    log(`${queries} single-value queries (${hits} hits): p50 ${r.p50_ms} ms, p90 ${r.p90_ms} ms, p99 ${r.p99_ms} ms, ${r.qps} queries/s sequential`);
    return r;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}
