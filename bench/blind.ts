// `npm run bench -- blind [--n N] [--json]`: CPU time per element on one core
// for HashToGroup, blind (HashToGroup then k·P) and tokenise (Token(k·E)),
// for every engine that runs here (reference @noble/curves, fast libsodium
// WebAssembly, native system libsodium through koffi), beside the native
// limit measured in the same run:
//   - `C limit`: the same three operations written in C against the same
//     libsodium.so (compiled here with the system C compiler; libsodium's
//     headers are not needed, its ABI is declared inline). Its output is
//     checked byte for byte against the engines'.
//   - `koffi raw`: libsodium's calls alone through koffi, on precomputed
//     uniform bytes (no expand_message_xmd, no engine code): the FFI floor.
//     It stands in as the limit where no C compiler is present.
// Ratios are limit ÷ engine (1 = as fast as the limit). Then the worker pool
// (all cores) and the inline/threads crossing that sets the pool's INLINE_BELOW.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { availableEngines, type Engine } from '../protocol/engine/index.js';
import { nativeSodium, type NativeSodium } from '../protocol/engine/native.js';
import { closeSharedPools, COLD_INLINE_BELOW, createPool, INLINE_BELOW } from '../protocol/engine/pool.js';
import { platformSha512, portableSha512 } from '../protocol/engine/sha512.js';
import { createExpandXmd, type Sha512Into } from '../protocol/hash-to-group.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { median } from './util.js';

const OPS = ['hashToGroup', 'blind', 'tokenise'] as const;
type Op = (typeof OPS)[number];
const RUNS = 5;

/** µs of process CPU (user + system) per element for one run. */
function cpuOnce(n: number, f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
}

/** µs of process CPU per element, median of RUNS. */
function cpuPerElement(n: number, f: () => void): number {
  return median(Array.from({ length: RUNS }, () => cpuOnce(n, f)));
}

const digest = (b: Uint8Array): string => createHash('sha512').update(b).digest('hex').slice(0, 32);

// The C limit: inputs are generated exactly as below (email\0person<i>@bench.example).
const C_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int sodium_init(void);
int crypto_core_ristretto255_from_hash(unsigned char *p, const unsigned char *r);
int crypto_scalarmult_ristretto255(unsigned char *q, const unsigned char *n, const unsigned char *p);
int crypto_hash_sha512(unsigned char *out, const unsigned char *in, unsigned long long inlen);
static void unhex(const char *h, unsigned char *out, size_t *len) {
  size_t n = strlen(h) / 2; for (size_t i = 0; i < n; i++) sscanf(h + 2 * i, "%2hhx", &out[i]); *len = n;
}
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static unsigned char dst[256], prefix[256], sk[32];
static size_t dstlen, prefixlen, sklen;
/* RFC 9380 §5.3.1 expand_message_xmd(SHA-512, msg, DST, 64): b_1 is the output. */
static void expand(const unsigned char *msg, size_t mlen, unsigned char *buf, unsigned char *u) {
  unsigned char b0[64], bi[64 + 1 + 256];
  memset(buf, 0, 128); memcpy(buf + 128, msg, mlen);
  size_t o = 128 + mlen; buf[o++] = 0; buf[o++] = 64; buf[o++] = 0;
  memcpy(buf + o, dst, dstlen); o += dstlen; buf[o++] = (unsigned char)dstlen;
  crypto_hash_sha512(b0, buf, o);
  memcpy(bi, b0, 64); bi[64] = 1; memcpy(bi + 65, dst, dstlen); bi[65 + dstlen] = (unsigned char)dstlen;
  crypto_hash_sha512(u, bi, 66 + dstlen);
}
static void print_digest(const char *name, const unsigned char *b, size_t len, double us) {
  unsigned char d[64]; crypto_hash_sha512(d, b, len);
  printf("%s %.4f ", name, us); for (int i = 0; i < 16; i++) printf("%02x", d[i]); printf("\n");
}
int main(int argc, char **argv) {
  if (argc != 6 || sodium_init() < 0) return 2;
  int n = atoi(argv[1]), runs = atoi(argv[5]);
  unhex(argv[2], sk, &sklen); unhex(argv[3], dst, &dstlen); unhex(argv[4], prefix, &prefixlen);
  unsigned char (*msgs)[64] = malloc((size_t)n * 64); size_t *lens = malloc((size_t)n * sizeof(size_t));
  for (int i = 0; i < n; i++) { memcpy(msgs[i], "email", 5); msgs[i][5] = 0; lens[i] = 6 + (size_t)sprintf((char *)msgs[i] + 6, "person%d@bench.example", i); }
  unsigned char *h = malloc((size_t)n * 32), *bl = malloc((size_t)n * 32), *tok = malloc((size_t)n * 16);
  unsigned char buf[128 + 64 + 4 + 256], u[64], ke[32], tb[256 + 32], d[64];
  double t[16];
  for (int r = 0; r < runs; r++) { double s = cpu(); for (int i = 0; i < n; i++) { expand(msgs[i], lens[i], buf, u); crypto_core_ristretto255_from_hash(h + 32 * i, u); } t[r] = (cpu() - s) / n; }
  qsort(t, runs, sizeof(double), cmp); print_digest("hashToGroup", h, (size_t)n * 32, t[runs / 2]);
  for (int r = 0; r < runs; r++) { double s = cpu(); for (int i = 0; i < n; i++) { expand(msgs[i], lens[i], buf, u); crypto_core_ristretto255_from_hash(ke, u); if (crypto_scalarmult_ristretto255(bl + 32 * i, sk, ke) != 0) return 3; } t[r] = (cpu() - s) / n; }
  qsort(t, runs, sizeof(double), cmp); print_digest("blind", bl, (size_t)n * 32, t[runs / 2]);
  memcpy(tb, prefix, prefixlen);
  for (int r = 0; r < runs; r++) { double s = cpu(); for (int i = 0; i < n; i++) { if (crypto_scalarmult_ristretto255(tb + prefixlen, sk, bl + 32 * i) != 0) return 3; crypto_hash_sha512(d, tb, prefixlen + 32); memcpy(tok + 16 * i, d, 16); } t[r] = (cpu() - s) / n; }
  qsort(t, runs, sizeof(double), cmp); print_digest("tokenise", tok, (size_t)n * 16, t[runs / 2]);
  return 0;
}
`;

/**
 * Native libsodium scalar multiplications per second, one FFI call per op on
 * one thread (koffi; the C limit of benchBlind is the stricter figure).
 * Null where the native library does not load.
 */
export function nativeOpsPerSecond(n: number, elementsHex: string, skHex: string): number | null {
  const { lib } = nativeSodium();
  if (!lib) return null;
  const h = (x: string): Uint8Array => Uint8Array.from(x.match(/../g) ?? [], (b) => parseInt(b, 16));
  const data = h(elementsHex);
  const sk = h(skHex);
  const out = new Uint8Array(32);
  const count = Math.min(n, data.length / 32);
  const us = cpuPerElement(count, () => {
    for (let i = 0; i < count; i++) if (lib.scalarmult(out, sk, data.subarray(32 * i, 32 * i + 32)) !== 0) throw new Error('bench: native scalar multiplication failed');
  });
  return 1e6 / us;
}

interface Limit {
  us: Record<Op, number>;
  digests: Record<Op, string>;
}

/**
 * Compile the C limit; a function running one round of it (runs=1), or why not
 * (no compiler, no libsodium). The caller removes `dir`.
 */
function cLimit(lib: NativeSodium | undefined, n: number, sk: Uint8Array): { round?: () => Limit; dir?: string; why?: string } {
  if (!lib) return { why: 'no native libsodium' };
  const dir = mkdtempSync(join(tmpdir(), 'concordat-limit-'));
  const src = join(dir, 'limit.c');
  const bin = join(dir, 'limit');
  writeFileSync(src, C_SOURCE);
  const link = lib.library.includes('/') ? lib.library : `-l:${lib.library}`;
  const cc = spawnSync('cc', ['-O2', '-o', bin, src, link], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { why: `C compiler unavailable or failed (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})` };
  }
  const s = CONCORDAT_SUITE;
  const round = (): Limit => {
    const r = spawnSync(bin, [String(n), bytesToHex(sk), bytesToHex(s.hashToGroupDST), bytesToHex(s.tokenPrefix), '1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench: the C limit exited with ${r.status}`);
    const us = {} as Record<Op, number>;
    const digests = {} as Record<Op, string>;
    for (const line of r.stdout.trim().split('\n')) {
      const [op, v, d] = line.split(' ') as [Op, string, string];
      us[op] = Number(v);
      digests[op] = d;
    }
    return { us, digests };
  };
  return { round, dir };
}

/** libsodium's calls alone through koffi: the FFI floor, without expand_message_xmd or engine code. */
function koffiRaw(lib: NativeSodium, uniforms: Uint8Array, blinded: Uint8Array, sk: Uint8Array, prefix: Uint8Array): Record<Op, number> {
  const n = uniforms.length / 64;
  const out = new Uint8Array(32);
  const tb = new Uint8Array(prefix.length + 32);
  tb.set(prefix);
  const ke = tb.subarray(prefix.length);
  const d = new Uint8Array(64);
  const h2g = cpuOnce(n, () => {
    for (let i = 0; i < n; i++) lib.from_hash(out, uniforms.subarray(64 * i, 64 * i + 64));
  });
  const blind = cpuOnce(n, () => {
    for (let i = 0; i < n; i++) {
      lib.from_hash(out, uniforms.subarray(64 * i, 64 * i + 64));
      lib.scalarmult(ke, sk, out);
    }
  });
  const tok = cpuOnce(n, () => {
    for (let i = 0; i < n; i++) {
      lib.scalarmult(ke, sk, blinded.subarray(32 * i, 32 * i + 32));
      lib.hash_sha512(d, tb, tb.length);
    }
  });
  return { hashToGroup: h2g, blind, tokenise: tok };
}

export interface EngineFigures {
  engine: string;
  n: number;
  us_per_element: Record<Op, number>;
  /** limit µs ÷ engine µs: 1 means as fast as the limit. */
  vs_limit: Record<Op, number> | null;
  byte_identical: boolean;
}

export interface BlindResult {
  n: number;
  cores: number;
  libsodium: string | null;
  limit: { kind: 'C' | 'koffi raw' | 'none'; note: string; us_per_element: Record<Op, number> | null };
  koffi_raw_us_per_element: Record<Op, number> | null;
  engines: EngineFigures[];
  expand_us: Record<string, number>;
  /** µs per element of the coordinator's check of an upload (Engine.checkElements), per engine. */
  check_us: Record<string, number>;
  pool: { engine: string; threads: number; blind_us_wall: number; tokenise_us_wall: number; blind_cpu_us_per_core: number; speedup: number };
  pool_crossing: Array<{ batch: number; inline_ms: number; threads_ms: number }>;
  thread_start_ms: number;
  inline_below: number;
  /** The same before the process started its threads. */
  cold_inline_below: number;
  // Kept for older consumers: blind ops/s.
  reference_ops_per_s: number;
  fast_ops_per_s: number;
  native_ops_per_s: number | null;
  pool_ops_per_s: number;
}

const ratio = (limit: number, x: number): number => Number((limit / x).toFixed(3));

export async function benchBlind(n: number, log: (s: string) => void): Promise<BlindResult> {
  const suite = CONCORDAT_SUITE;
  const { sk } = deriveKeyPair(suite, new Uint8Array(32).fill(9), epochInfo('bench'));
  const engines = await availableEngines();
  const { lib, reason } = nativeSodium();
  log(`${n} elements; CPU time per element on one core (process CPU, median of ${RUNS}); ${availableParallelism()} cores`);
  log(lib ? `native libsodium ${lib.version} (${lib.library})` : `native libsodium: unavailable (${reason})`);
  const inputs = Array.from({ length: n }, (_, i) => utf8(`email\u0000person${i}@bench.example`));
  const fastest = engines.at(-1) as Engine;
  const truth = {
    hashToGroup: fastest.hashToGroup(suite, inputs),
    blind: fastest.blind(suite, sk, inputs),
  };
  const truthTokens = fastest.tokenize(suite, sk, truth.blind);

  // Rounds interleave the C limit, the FFI floor and every engine, so a burst
  // of other load on this shared machine falls on all of them alike; each
  // figure is the median over the rounds.
  const c = cLimit(lib, n, sk);
  let uniforms: Uint8Array | undefined;
  if (lib) {
    const expand = createExpandXmd(portableSha512, suite.hashToGroupDST, 64);
    uniforms = new Uint8Array(64 * n);
    inputs.forEach((x, i) => uniforms!.set(expand(x), 64 * i));
  }
  const samples = new Map<string, Record<Op, number[]>>();
  const add = (key: string, us: Record<Op, number>): void => {
    const cur = samples.get(key) ?? { hashToGroup: [], blind: [], tokenise: [] };
    for (const o of OPS) cur[o].push(us[o]);
    samples.set(key, cur);
  };
  const med = (key: string): Record<Op, number> => {
    const x = samples.get(key) as Record<Op, number[]>;
    return { hashToGroup: median(x.hashToGroup), blind: median(x.blind), tokenise: median(x.tokenise) };
  };
  const identical = new Map<string, boolean>();
  let cIdentical = true;
  try {
    for (const e of engines) e.blind(suite, sk, inputs.slice(0, 100));
    for (let round = 0; round < RUNS; round++) {
      if (c.round) {
        const l = c.round();
        cIdentical &&= l.digests.hashToGroup === digest(truth.hashToGroup) && l.digests.blind === digest(truth.blind) && l.digests.tokenise === digest(truthTokens);
        add('C', l.us);
      }
      if (lib && uniforms) add('koffi raw', koffiRaw(lib, uniforms, truth.blind, sk, suite.tokenPrefix));
      for (const e of engines) {
        // The reference engine is ~10× slower: a prefix keeps the bench short.
        const m = e.name === 'reference' ? Math.min(n, 1000) : n;
        const xs = inputs.slice(0, m);
        const bl = truth.blind.subarray(0, 32 * m);
        let h: Uint8Array = new Uint8Array(0);
        let b: Uint8Array = new Uint8Array(0);
        let t: Uint8Array = new Uint8Array(0);
        add(e.name, {
          hashToGroup: cpuOnce(m, () => (h = e.hashToGroup(suite, xs))),
          blind: cpuOnce(m, () => (b = e.blind(suite, sk, xs))),
          tokenise: cpuOnce(m, () => (t = e.tokenize(suite, sk, bl))),
        });
        const same =
          bytesToHex(h) === bytesToHex(truth.hashToGroup.subarray(0, 32 * m)) &&
          bytesToHex(b) === bytesToHex(bl) &&
          bytesToHex(t) === bytesToHex(truthTokens.subarray(0, 16 * m));
        identical.set(e.name, (identical.get(e.name) ?? true) && same);
      }
    }
  } finally {
    if (c.dir) rmSync(c.dir, { recursive: true, force: true });
  }
  if (!cIdentical) throw new Error('bench: the C limit computed different bytes from the engines');
  const raw = lib ? med('koffi raw') : null;
  const limit: BlindResult['limit'] = c.round
    ? { kind: 'C', note: 'the same operations in C against the same libsodium.so, one thread', us_per_element: med('C') }
    : raw
      ? { kind: 'koffi raw', note: `libsodium calls alone through koffi (${c.why})`, us_per_element: raw }
      : { kind: 'none', note: c.why ?? 'unavailable', us_per_element: null };

  const figures: EngineFigures[] = engines.map((e) => {
    const us = med(e.name);
    const lim = limit.us_per_element;
    return {
      engine: e.name,
      n: e.name === 'reference' ? Math.min(n, 1000) : n,
      us_per_element: us,
      vs_limit: lim ? { hashToGroup: ratio(lim.hashToGroup, us.hashToGroup), blind: ratio(lim.blind, us.blind), tokenise: ratio(lim.tokenise, us.tokenise) } : null,
      byte_identical: identical.get(e.name) === true,
    };
  });

  // expand_message_xmd alone, per SHA-512 available (the engines' choice: libsodium for native, node:crypto for fast on Node).
  const expandUs: Record<string, number> = {};
  const hashes: Array<[string, Sha512Into]> = [
    ['portable (@noble/hashes)', portableSha512],
    ['node:crypto', platformSha512()],
  ];
  if (lib) hashes.push(['libsodium via koffi', (out, data) => void lib.hash_sha512(out, data, data.length)]);
  const em = Math.min(n, 20000);
  for (const [name, hash] of hashes) {
    const f = createExpandXmd(hash, suite.hashToGroupDST, 64);
    expandUs[name] = Number(
      cpuPerElement(em, () => {
        for (let i = 0; i < em; i++) f(inputs[i] as Uint8Array);
      }).toFixed(3),
    );
  }

  // The coordinator's strict decode of every uploaded element, per engine (the reference on a tenth).
  const checkUs: Record<string, number> = {};
  for (const e of engines) {
    const m = e.name === 'reference' ? Math.max(1, Math.floor(em / 10)) : em;
    const packed = truth.blind.subarray(0, 32 * m);
    checkUs[e.name] = Number(cpuPerElement(m, () => e.checkElements(packed)).toFixed(3));
  }

  // The pool over all cores, with threads warm (started once per process).
  const poolEngine = fastest.name;
  const pool = await createPool({ engine: poolEngine });
  await pool.blind(suite, sk, inputs.slice(0, 4096));
  const wall = async (f: () => Promise<unknown>): Promise<{ ms: number; cpu: number }> => {
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
      const d = process.cpuUsage(c0);
      cpu.push(d.user + d.system);
    }
    return { ms: median(ms), cpu: median(cpu) };
  };
  const pb = await wall(() => pool.blind(suite, sk, inputs));
  const pt = await wall(() => pool.tokenize(suite, sk, truth.blind));
  const single = figures.find((f) => f.engine === poolEngine) as EngineFigures;
  const poolFig = {
    engine: poolEngine,
    threads: pool.threads,
    blind_us_wall: Number(((pb.ms * 1000) / n).toFixed(2)),
    tokenise_us_wall: Number(((pt.ms * 1000) / n).toFixed(2)),
    blind_cpu_us_per_core: Number((pb.cpu / n).toFixed(2)),
    speedup: Number((single.us_per_element.blind / ((pb.ms * 1000) / n)).toFixed(2)),
  };
  await pool.close();

  // Inline against warm threads by batch size: where the pool stops running inline.
  const crossing: BlindResult['pool_crossing'] = [];
  await closeSharedPools();
  const inlinePool = await createPool({ engine: poolEngine, threads: 0 });
  const threadPool = await createPool({ engine: poolEngine, inlineBelow: 0 });
  // The first threaded batch also starts the threads (once per process).
  const startBatch = truth.blind.subarray(0, 32 * Math.min(n, INLINE_BELOW));
  const t0 = performance.now();
  await threadPool.tokenize(suite, sk, startBatch);
  const coldMs = performance.now() - t0;
  const warmMs = (await wall(() => threadPool.tokenize(suite, sk, startBatch))).ms;
  const threadStartMs = Number(Math.max(0, coldMs - warmMs).toFixed(1));
  for (const batch of [64, 128, 256, 512, 1024, 2048].filter((b) => b <= n)) {
    const bl = truth.blind.subarray(0, 32 * batch);
    const a = await wall(() => inlinePool.tokenize(suite, sk, bl));
    const b = await wall(() => threadPool.tokenize(suite, sk, bl));
    crossing.push({ batch, inline_ms: Number(a.ms.toFixed(2)), threads_ms: Number(b.ms.toFixed(2)) });
  }
  await inlinePool.close();
  await threadPool.close();
  await closeSharedPools();

  const fmt = (x: number): string => x.toFixed(1).padStart(8);
  const fmtR = (x: number | undefined): string => (x === undefined ? '       –' : `${x.toFixed(2)}×`.padStart(8));
  log('');
  log(`limit: ${limit.kind} — ${limit.note}${c.round ? '; its output is checked byte for byte against the engines\' every round' : ''}`);
  if (c.round && raw) log(`(koffi raw, libsodium calls alone through the FFI: ${OPS.map((o) => `${o} ${raw![o].toFixed(1)} µs`).join(', ')})`);
  log('');
  log(`${'engine'.padEnd(26)}${OPS.map((o) => `${o} µs`.padStart(16)).join('')}   ${OPS.map((o) => `vs limit`.padStart(9)).join('')}  identical`);
  for (const f of figures) {
    log(
      `${`${f.engine} (n=${f.n})`.padEnd(26)}${OPS.map((o) => fmt(f.us_per_element[o]).padStart(16)).join('')}   ${OPS.map((o) => fmtR(f.vs_limit?.[o]).padStart(9)).join('')}  ${f.byte_identical ? 'yes' : 'NO'}`,
    );
  }
  if (limit.us_per_element) log(`${`limit (${limit.kind})`.padEnd(26)}${OPS.map((o) => fmt(limit.us_per_element![o]).padStart(16)).join('')}   ${OPS.map(() => '   1.00×').join('')}`);
  log('');
  log(`expand_message_xmd alone, µs: ${Object.entries(expandUs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`upload check (strict decode of each element, the coordinator's), µs: ${Object.entries(checkUs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(
    `pool (${poolFig.engine}, ${poolFig.threads} threads): blind ${poolFig.blind_us_wall} µs/element wall (${poolFig.speedup}× one thread, ${poolFig.blind_cpu_us_per_core} µs CPU per element), tokenise ${poolFig.tokenise_us_wall} µs/element wall`,
  );
  log(`pool crossing (tokenise, ms inline vs warm threads): ${crossing.map((x) => `${x.batch}: ${x.inline_ms}/${x.threads_ms}`).join(', ')}; starting the threads cost ${threadStartMs} ms; the pool runs inline below ${INLINE_BELOW} elements once its threads run, below ${COLD_INLINE_BELOW} before`);

  const ops = (name: string): number => {
    const f = figures.find((x) => x.engine === name);
    return f ? Math.round(1e6 / f.us_per_element.blind) : 0;
  };
  return {
    n,
    cores: availableParallelism(),
    libsodium: lib ? lib.version : null,
    limit,
    koffi_raw_us_per_element: raw,
    engines: figures,
    expand_us: expandUs,
    check_us: checkUs,
    pool: poolFig,
    pool_crossing: crossing,
    thread_start_ms: threadStartMs,
    inline_below: INLINE_BELOW,
    cold_inline_below: COLD_INLINE_BELOW,
    reference_ops_per_s: ops('reference'),
    fast_ops_per_s: ops('fast'),
    native_ops_per_s: lib ? ops('native') : null,
    pool_ops_per_s: Math.round(1e6 / poolFig.blind_us_wall),
  };
}
