// `npm run soak [-- --trials N] [--scenarios a,b] [--agencies 2|3] [--json]`:
// the fault suite. A clean run of a template world is the reference; each
// scenario runs N trials of its fault with real processes and compares the
// converged outcome with it. Prints a table (scenario, trials, failures, what
// diverged) and, with --json, one JSON object on stdout. Exit 1 on any failure.
import { reference, type ScenarioResult } from './soak/scenarios.js';
import { formatTable, SCENARIOS } from './soak/suite.js';
import { rmSync } from 'node:fs';
import { Template } from './soak/world.js';
import { prng } from '../scripts/synthetic.js';
import { intFlag, parseFlags } from './util.js';

async function main(): Promise<number> {
  const { flags } = parseFlags(process.argv.slice(2));
  const trials = intFlag(flags, 'trials', 10);
  const agencies = intFlag(flags, 'agencies', 3);
  if (agencies !== 2 && agencies !== 3) throw new Error('--agencies: 2 or 3');
  const seed = intFlag(flags, 'seed', Date.now() % 1_000_000_007);
  const only = typeof flags.get('scenarios') === 'string' ? String(flags.get('scenarios')).split(',') : Object.keys(SCENARIOS);
  for (const s of only) if (!SCENARIOS[s]) throw new Error(`--scenarios: unknown "${s}" (one of ${Object.keys(SCENARIOS).join(', ')})`);
  const json = flags.has('json');
  const log = (s: string): void => void (json ? process.stderr : process.stdout).write(`${s}\n`);
  const rnd = prng(seed);
  log(`soak: seed ${seed}, ${trials} trial(s) per scenario, ${agencies} agencies`);
  const template = await Template.build({ agencies, own: 100, seed: 20261202 });
  const ref = await reference(template);
  log(`reference: ${ref.syncs.length} syncs in ${ref.seconds.toFixed(1)} s, ${Object.values(ref.snapshot.matches).flat().length} matches, ${Object.values(ref.snapshot.hits).flat().length} hits`);
  const results: ScenarioResult[] = [];
  try {
    for (const name of only) {
      log(`${name} …`);
      const r = await (SCENARIOS[name] as (typeof SCENARIOS)[string])(ref, { trials, rnd, log });
      results.push(r);
      log(`${name}: ${r.trials} trial(s), ${r.failures} failure(s) in ${r.seconds} s`);
    }
  } finally {
    template.remove();
    rmSync(ref.converged, { recursive: true, force: true });
  }
  log('');
  log(formatTable(results));
  if (json) process.stdout.write(`${JSON.stringify({ seed, trials, agencies, reference_s: Number(ref.seconds.toFixed(1)), scenarios: results })}\n`);
  return results.some((r) => r.failures > 0) ? 1 : 0;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`soak: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
