// The entry point of `concordat sync` for the rest of the client (CLI,
// daemon, benchmarks, tests); the phases are in sync/.
export { sync, type PairSyncSummary, type SyncOptions, type SyncReport } from './sync/index.js';
/** @deprecated Build the client with `agencyClient` from clients/sdk/agency-client.ts. */
export { agencyClient as clientFor } from '../sdk/agency-client.js';
