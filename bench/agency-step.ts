// One agency step of the nightly bench, in its own process so its peak memory
// is its own: `node dist/bench/agency-step.js import|sync|results DIR [FILE]`.
// Prints one JSON line: wall time, time per progress phase, peak RSS. Each
// step loads only its own modules, as the `concordat` command of that step does.
import { loadAgency } from '../clients/agency/config.js';
import type { ProgressFactory } from '../clients/agency/progress.js';
import { openStore, type Store } from '../clients/store/db.js';

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
// The step's own modules load before its clock starts (the process start is the night's, not the step's).
const run = await (async (): Promise<(store: Store) => Promise<unknown>> => {
  if (step === 'import') {
    if (!file) throw new Error('import needs a FILE');
    const { importWatchlist } = await import('../clients/agency/watchlist.js');
    return (store) => importWatchlist(store, file, {});
  }
  if (step === 'sync') {
    const { sync } = await import('../clients/agency/sync.js');
    return (store) => sync(agency, store, { progress: timing, warn: (l) => process.stderr.write(`${l}\n`) });
  }
  if (step === 'results') {
    const [{ pullResults }, { agencyClient }] = await Promise.all([import('../clients/agency/results.js'), import('../clients/sdk/agency-client.js')]);
    return (store) => pullResults(agencyClient(agency), store);
  }
  throw new Error(`unknown step ${step}`);
})();
const store = openStore(agency.dir);
const t0 = performance.now();
try {
  await run(store);
} finally {
  store.close();
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ step, seconds, phases, counts, peak_rss_mb: process.resourceUsage().maxRSS / 1024 })}\n`);
