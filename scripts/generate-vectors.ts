// `npm run vectors:generate`: rewrite vectors/concordat-v1.json from the deterministic generator.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConcordatVectors } from '../protocol/vectors-generate.js';

export function writeVectorsFile(path: string): number {
  const text = renderConcordatVectors();
  writeFileSync(path, text);
  const v = JSON.parse(text) as Record<string, unknown>;
  return Object.values(v).reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 0), 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../../vectors/concordat-v1.json', import.meta.url));
  console.log(`wrote ${out}: ${writeVectorsFile(out)} cases`);
}
