// The entry point of `concordat sync` for the rest of the client (CLI,
// daemon, benchmarks, tests); the phases are in sync/.
export { sync, type PairSyncSummary, type SyncOptions, type SyncReport } from './sync/index.js';
