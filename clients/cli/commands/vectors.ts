// `concordat vectors verify|generate`: researchers check the published vectors
// against every engine that runs on this machine (reference, fast and, where
// the system libsodium loads, native) with one command.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT } from '../../sdk/errors.js';

/** vectors/ of the installed package (dist/clients/cli/commands → package root). */
export function packageVectorsDir(): string {
  return fileURLToPath(new URL('../../../../vectors/', import.meta.url));
}

export async function verifyFiles(files: string[], out: (line: string) => void): Promise<{ passed: number; failed: number }> {
  const [{ availableEngines }, { verifyVectors }] = await Promise.all([import('../../../protocol/engine/index.js'), import('../../../protocol/vectors.js')]);
  const engines = await availableEngines();
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      failed++;
      out(`FAIL ${file}: cannot read JSON (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const r = verifyVectors(json, engines);
    const bad = r.failures.length;
    passed += r.cases - bad;
    failed += bad;
    if (bad === 0) out(`ok   ${file}: ${r.cases} cases (${r.format}; engines ${engines.map((e) => e.name).join(', ')})`);
    else {
      out(`FAIL ${file}: ${bad} of ${r.cases} cases failed (${r.format})`);
      for (const f of r.failures.slice(0, 20)) out(`     ${f.case}: ${f.message}`);
      if (bad > 20) out(`     … and ${bad - 20} more`);
    }
  }
  return { passed, failed };
}

export function registerVectors(program: Command): void {
  const vectors = program.command('vectors').description('test vectors of the Concordat PSI protocol (v1, v2) and RFC 9497');
  vectors
    .command('verify')
    .description('check vector files against every engine available here: reference, fast and native (default: every file in vectors/)')
    .argument('[files...]', 'vector files (JSON)')
    .action(async (files: string[]) => {
      const dir = packageVectorsDir();
      const list = files.length > 0 ? files.map((f) => resolve(f)) : readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
      if (list.length === 0) {
        console.error(`concordat vectors verify: no vector files in ${dir}`);
        process.exitCode = EXIT.error;
        return;
      }
      const { passed, failed } = await verifyFiles(list, (l) => console.log(l));
      console.log(`${passed} passed, ${failed} failed`);
      process.exitCode = failed > 0 ? EXIT.error : EXIT.ok;
    });
  vectors
    .command('generate')
    .description('regenerate vectors/concordat-v1.json and vectors/concordat-v2.json deterministically')
    .option('--out <file>', 'output file for the v1 vectors', join(packageVectorsDir(), 'concordat-v1.json'))
    .option('--out-v2 <file>', 'output file for the v2 vectors', join(packageVectorsDir(), 'concordat-v2.json'))
    .action(async (opts: { out: string; outV2: string }) => {
      const { renderConcordatV2Vectors, renderConcordatVectors } = await import('../../../protocol/vectors-generate.js');
      writeFileSync(opts.out, renderConcordatVectors());
      writeFileSync(opts.outV2, renderConcordatV2Vectors());
      console.log(`wrote ${basename(opts.out)}, ${basename(opts.outV2)}`);
    });
}
