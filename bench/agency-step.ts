// One agency step of the nightly bench, in its own process so its peak memory
// is its own: `node dist/bench/agency-step.js import|sync|results DIR [FILE]`.
// Prints one JSON line: wall time, time per progress phase, peak RSS.
import { loadAgency } from '../clients/agency/config.js';
import type { ProgressFactory } from '../clients/agency/progress.js';
import { pullResults } from '../clients/agency/results.js';
import { sync } from '../clients/agency/sync.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { openStore } from '../clients/store/db.js';

const [step, dir, file] = process.argv.slice(2);
if (!step || !dir) throw new Error('usage: agency-step import|sync|results DIR [FILE]');
const phases: Record<string, number> = {};
const counts: Record<string, number> = {};
const timing: ProgressFactory = (label) => {
  const t = performance.now();
  let done = 0;
  return {
    update(n) {
      done = n;
    },
    stop() {
      phases[label] = (phases[label] ?? 0) + (performance.now() - t) / 1000;
      counts[label] = (counts[label] ?? 0) + done;
    },
  };
};
const agency = loadAgency(dir);
const store = openStore(agency.dir);
const t0 = performance.now();
try {
  if (step === 'import') {
    if (!file) throw new Error('import needs a FILE');
    await importWatchlist(store, file, {});
  } else if (step === 'sync') {
    await sync(agency, store, { progress: timing, warn: (l) => process.stderr.write(`${l}\n`) });
  } else if (step === 'results') {
    await pullResults(agencyClient(agency), store);
  } else throw new Error(`unknown step ${step}`);
} finally {
  store.close();
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ step, seconds, phases, counts, peak_rss_mb: process.resourceUsage().maxRSS / 1024 })}\n`);
