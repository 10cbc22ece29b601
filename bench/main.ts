// `npm run bench -- <scenario> [options] [--json]`. Scenarios print human
// figures to stderr and, with --json, one JSON object to stdout.
import { benchAudit } from './audit.js';
import { benchBlind } from './blind.js';
import { benchImport } from './import.js';
import { benchLoad } from './load.js';
import { benchNames } from './names.js';
import { benchNightly } from './nightly.js';
import { benchPairs } from './pairs.js';
import { benchQuery } from './query.js';
import { benchRotate } from './rotate.js';
import { intFlag, parseFlags } from './util.js';

const SCENARIOS: Record<string, (flags: Map<string, string | true>, log: (s: string) => void) => Promise<object>> = {
  audit: (flags, log) => benchAudit(intFlag(flags, 'n', 1_000_000), intFlag(flags, 'appends', 20_000), intFlag(flags, 'proofs', 200), log),
  blind: (flags, log) => benchBlind(intFlag(flags, 'n', intFlag(flags, 'size', 20000)), log),
  import: (flags, log) => benchImport(intFlag(flags, 'rows', 1_000_000), log),
  load: (flags, log) => benchLoad(flags, log),
  names: (flags, log) => benchNames(intFlag(flags, 'rounds', 5), log),
  nightly: (flags, log) => benchNightly(intFlag(flags, 'size', 10000), log),
  pairs: (flags, log) => benchPairs(intFlag(flags, 'n', 20000), intFlag(flags, 'pairs', 3), log),
  rotate: (flags, log) => benchRotate(intFlag(flags, 'size', 100000), log),
  query: (flags, log) => benchQuery(intFlag(flags, 'size', 100000), intFlag(flags, 'queries', 200), log),
};

async function run(): Promise<number> {
  const { positional, flags } = parseFlags(process.argv.slice(2));
  const name = positional[0] ?? 'blind';
  const scenario = SCENARIOS[name];
  if (!scenario) {
    console.error(`bench: unknown scenario "${name}" (one of: ${Object.keys(SCENARIOS).join(', ')})`);
    return 2;
  }
  const json = flags.has('json');
  const log = (s: string): void => {
    (json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  const result = await scenario(flags, log);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else log(JSON.stringify(result, null, 2));
  return 0;
}

process.exitCode = await run();
