// `npm run bench -- names`: recall and precision of `name_dob` and
// `name_dob_phonetic` on the shipped evaluation set (bench/data/names-eval.json,
// scripts/generate-names-eval.ts), and what the phonetic keys cost per record.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalize, identifierInput } from '../protocol/identifiers/index.js';
import type { EvalRecord } from '../scripts/generate-names-eval.js';
import { median } from './util.js';
import { phoneticKeys } from '../protocol/identifiers/phonetic.js';
import { loadEngine } from '../protocol/engine/index.js';
import { CONCORDAT_SUITE as SUITE } from '../protocol/constants.js';

export type { EvalRecord };

export function loadNamesEval(): EvalRecord[] {
  // dist/bench/names.js and bench/names.ts both sit two levels below the data.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'data', 'names-eval.json'), join(here, '..', '..', 'bench', 'data', 'names-eval.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { records: EvalRecord[] }).records;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new Error('names-eval.json not found (run npm run names:generate)');
}

export interface KindScore {
  truePairs: number;
  candidates: number;
  found: number;
  recall: number;
  precision: number;
}

export interface NamesScore {
  records: number;
  persons: number;
  exact: KindScore;
  phonetic: KindScore;
  /** Recall of the phonetic kind per script group (ru, gr, ar, la). */
  phoneticRecallByGroup: Record<string, number>;
  /** True pairs the phonetic kind misses, as "person: value ≠ value" — synthetic names only. */
  missed: string[];
  /** Candidate pairs of different persons. */
  falseCandidates: string[];
}

/** Score cross-convention pairs: each record stands for a different agency's entry. */
export function scoreNames(records: readonly EvalRecord[], keysOf: (value: string) => readonly string[]): NamesScore {
  const truth = new Set<string>();
  const pairKey = (i: number, j: number): string => (i < j ? `${i}:${j}` : `${j}:${i}`);
  for (let i = 0; i < records.length; i++) {
    for (let j = i + 1; j < records.length; j++) {
      const a = records[i] as EvalRecord;
      const b = records[j] as EvalRecord;
      if (a.person === b.person && a.convention !== b.convention) truth.add(pairKey(i, j));
    }
  }
  const score = (keyFn: (v: string) => readonly string[]): { s: KindScore; found: Set<string>; cands: Set<string> } => {
    const index = new Map<string, number[]>();
    records.forEach((r, i) => {
      for (const k of keyFn(r.value)) {
        const list = index.get(k) ?? [];
        list.push(i);
        index.set(k, list);
      }
    });
    const cands = new Set<string>();
    for (const list of index.values()) {
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) {
          const i = list[x] as number;
          const j = list[y] as number;
          if (i !== j && (records[i] as EvalRecord).convention !== (records[j] as EvalRecord).convention) cands.add(pairKey(i, j));
        }
      }
    }
    const found = new Set([...cands].filter((p) => truth.has(p)));
    return {
      s: { truePairs: truth.size, candidates: cands.size, found: found.size, recall: found.size / truth.size, precision: cands.size === 0 ? 1 : found.size / cands.size },
      found,
      cands,
    };
  };
  const exact = score((v) => [canonicalize('name_dob', v)]);
  const phon = score(keysOf);
  const byGroup: Record<string, { t: number; f: number }> = {};
  const missed: string[] = [];
  for (const p of truth) {
    const [i, j] = p.split(':').map(Number) as [number, number];
    const a = records[i] as EvalRecord;
    const g = a.person.split('-')[0] as string;
    const e = (byGroup[g] ??= { t: 0, f: 0 });
    e.t += 1;
    if (phon.found.has(p)) e.f += 1;
    else missed.push(`${a.person}: ${a.value} ≠ ${(records[j] as EvalRecord).value}`);
  }
  const falseCandidates = [...phon.cands]
    .filter((p) => !truth.has(p))
    .map((p) => {
      const [i, j] = p.split(':').map(Number) as [number, number];
      return `${(records[i] as EvalRecord).value} ~ ${(records[j] as EvalRecord).value}`;
    });
  return {
    records: records.length,
    persons: new Set(records.filter((r) => !r.distractor).map((r) => r.person)).size,
    exact: exact.s,
    phonetic: phon.s,
    phoneticRecallByGroup: Object.fromEntries(Object.entries(byGroup).map(([g, v]) => [g, v.f / v.t])),
    missed,
    falseCandidates,
  };
}

export async function benchNames(rounds: number, log: (s: string) => void): Promise<object> {
  const records = loadNamesEval();
  const result = scoreNames(records, phoneticKeys);
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  log(`names: ${result.records} records, ${result.persons} persons written by 4–6 conventions, distractors included`);
  log(`  name_dob           recall ${pct(result.exact.recall)}  precision ${pct(result.exact.precision)}  (${result.exact.found}/${result.exact.truePairs} pairs, ${result.exact.candidates} matches)`);
  log(`  name_dob_phonetic  recall ${pct(result.phonetic.recall)}  precision ${pct(result.phonetic.precision)}  (${result.phonetic.found}/${result.phonetic.truePairs} pairs, ${result.phonetic.candidates} candidates)`);
  log(`  phonetic recall by script: ${Object.entries(result.phoneticRecallByGroup).map(([g, r]) => `${g} ${pct(r)}`).join(', ')}`);

  // Cost per record: deriving the keys, and blinding them with the engine this machine uses.
  const values = records.map((r) => r.value);
  const deriveUs: number[] = [];
  let keyCount = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    keyCount = 0;
    for (const v of values) keyCount += phoneticKeys(v).length;
    deriveUs.push(Number(process.hrtime.bigint() - t0) / 1e3 / values.length);
  }
  const exactUs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (const v of values) canonicalize('name_dob', v);
    exactUs.push(Number(process.hrtime.bigint() - t0) / 1e3 / values.length);
  }
  const engine = await loadEngine();
  const inputs = values.flatMap((v) => phoneticKeys(v).map((k) => identifierInput('name_dob_phonetic', k)));
  const sk = new Uint8Array(32);
  sk[0] = 7;
  const blindUs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    engine.blind(SUITE, sk, inputs);
    blindUs.push(Number(process.hrtime.bigint() - t0) / 1e3 / inputs.length);
  }
  const keysPerRecord = keyCount / values.length;
  const perRecordBlind = median(blindUs) * keysPerRecord;
  log(`  keys per record ${keysPerRecord.toFixed(2)} (name_dob: 1); derive ${median(deriveUs).toFixed(1)} µs vs name_dob canonical ${median(exactUs).toFixed(1)} µs per record`);
  log(`  blinding the keys: ${median(blindUs).toFixed(1)} µs per key on the ${engine.name} engine → ${perRecordBlind.toFixed(0)} µs extra per record`);
  if (result.missed.length > 0) log(`  missed (${result.missed.length}):\n    ${result.missed.slice(0, 30).join('\n    ')}`);
  if (result.falseCandidates.length > 0) log(`  false candidates (${result.falseCandidates.length}):\n    ${result.falseCandidates.slice(0, 20).join('\n    ')}`);
  return {
    records: result.records,
    persons: result.persons,
    exact: result.exact,
    phonetic: result.phonetic,
    phoneticRecallByGroup: result.phoneticRecallByGroup,
    keysPerRecord,
    deriveUsPerRecord: median(deriveUs),
    exactUsPerRecord: median(exactUs),
    blindUsPerKey: median(blindUs),
    extraBlindUsPerRecord: perRecordBlind,
    engine: engine.name,
    missed: result.missed,
    falseCandidates: result.falseCandidates.length,
  };
}
