// vectors/concordat-v1.json through the one loader, against both engines, and
// the generator's determinism. The CLI's tamper detection is tested too.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadFastEngine, referenceEngine, type Engine } from '../protocol/engine/index.js';
import { verifyVectors } from '../protocol/vectors.js';
import { renderConcordatVectors } from '../protocol/vectors-generate.js';

const root = new URL('../', import.meta.url);
const file = (name: string): unknown => JSON.parse(readFileSync(new URL(`vectors/${name}`, root), 'utf8'));
const engines: Engine[] = [referenceEngine, await loadFastEngine()];
const concordat = file('concordat-v1.json') as Record<string, unknown[]>;

describe('vectors/concordat-v1.json', () => {
  test('has the documented sections and at least 40 cases', () => {
    const sections = ['hashToGroup', 'deriveKeyPair', 'evaluate', 'token', 'pairs', 'canonicalization', 'invalidElements', 'proofs'];
    for (const s of sections) expect(Array.isArray(concordat[s]) && concordat[s]!.length > 0, s).toBe(true);
    expect(sections.reduce((n, s) => n + concordat[s]!.length, 0)).toBeGreaterThanOrEqual(40);
  });

  test('is exactly what the generator produces (re-runnable, deterministic)', () => {
    expect(renderConcordatVectors()).toBe(readFileSync(new URL('vectors/concordat-v1.json', root), 'utf8'));
  });

  test.each(engines.map((e) => ({ name: e.name, e })))('every case passes on the $name engine', ({ e }) => {
    const r = verifyVectors(concordat, [e]);
    expect(r.format).toBe('concordat-v1');
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThan(60);
  });

  test('RFC 9497 file passes on both engines through the same loader', () => {
    const r = verifyVectors(file('rfc9497-ristretto255-sha512.json'), engines);
    expect(r.format).toBe('rfc9497');
    expect(r.failures).toEqual([]);
  });

  test.each([
    ['hashToGroup', 3, 'element'],
    ['evaluate', 1, 'result'],
    ['token', 0, 'token'],
    ['pairs', 2, 'token'],
    ['proofs', 1, 'proof'],
    ['deriveKeyPair', 0, 'pk'],
  ] as const)('a tampered %s[%i].%s is reported by case name', (section, i, field) => {
    const copy = structuredClone(concordat) as Record<string, Array<Record<string, string>>>;
    const entry = copy[section]![i]!;
    const v = entry[field]!;
    entry[field] = (v.startsWith('0') ? '1' : '0') + v.slice(1);
    const r = verifyVectors(copy, engines);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures.every((f) => f.case.startsWith(`${section}[${i}]`))).toBe(true);
  });

  test('a valid element slipped into invalidElements is reported', () => {
    const copy = structuredClone(concordat) as { invalidElements: string[]; token: Array<{ element: string }> };
    copy.invalidElements.push(copy.token[0]!.element);
    const r = verifyVectors(copy, engines);
    expect(r.failures.map((f) => f.case)).toEqual([`invalidElements[${copy.invalidElements.length - 1}]`]);
  });

  test('a file that is not a vector file fails with the offending path', () => {
    const r = verifyVectors({ suite: 'something-else' }, engines);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures[0]!.case).toBe('suite');
  });
});

describe('concordat vectors verify (CLI)', () => {
  const bin = new URL('bin/concordat.js', root).pathname;

  test('passes on the shipped files with a summary line last', () => {
    const out = execFileSync(bin, ['vectors', 'verify'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ok ')).length).toBe(2);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  test('a tampered copy fails, naming the case, with a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vectors-'));
    const copy = structuredClone(concordat) as { evaluate: Array<{ result: string }> };
    copy.evaluate[2]!.result = copy.evaluate[2]!.result.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    const path = join(dir, 'tampered.json');
    writeFileSync(path, JSON.stringify(copy));
    const r = spawnSync(bin, ['vectors', 'verify', path], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('evaluate[2]');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
  });
});
