// `npm run vectors:generate`: rewrite vectors/concordat-v1.json,
// vectors/concordat-v2-psi.json, vectors/concordat-v2.json and vectors/concordat-v2-tlog.json from the
// deterministic generators.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConcordatV2PsiVectors, renderConcordatV2Vectors, renderConcordatVectors } from '../protocol/vectors-generate.js';
import { renderConcordatV2TlogVectors } from '../protocol/vectors-tlog.js';

export const VECTOR_FILES = {
  'concordat-v1.json': renderConcordatVectors,
  'concordat-v2-psi.json': renderConcordatV2PsiVectors,
  'concordat-v2.json': renderConcordatV2Vectors,
  'concordat-v2-tlog.json': renderConcordatV2TlogVectors,
} as const;

function countCases(text: string): number {
  const v = JSON.parse(text) as Record<string, unknown>;
  return Object.values(v).reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 0), 0);
}

/** Write one vector file; returns the number of cases in it. */
export function writeVectorsFile(path: string, render: () => string = renderConcordatVectors): number {
  const text = render();
  writeFileSync(path, text);
  return countCases(text);
}

/** Write every generated vector file into `dir`; returns the case count per file name. */
export function writeVectorsFiles(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, render] of Object.entries(VECTOR_FILES)) out[name] = writeVectorsFile(join(dir, name), render);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../../vectors/', import.meta.url));
  for (const [name, n] of Object.entries(writeVectorsFiles(dir))) console.log(`wrote ${join(dir, name)}: ${n} cases`);
}
