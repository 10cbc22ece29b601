// The control plane of the coordinator store, written once for every driver
// (docs/ARCHITECTURE.md §Coordinator): each Store method but `pair` and
// `close` is implemented in exactly one of the table-family modules below,
// over the Executor a driver supplies.
import type { Store } from '../types.js';
import { auditRows } from './audit.js';
import { coordinatorRows } from './coordinator.js';
import { epochRows } from './epochs.js';
import type { Executor } from './executor.js';
import { hitRows } from './hits.js';
import { queryRows } from './queries.js';
import { registry } from './registry.js';

/** Everything of a Store but where its pairs live and how it closes, plus the admin key the Worker keeps in step. */
export type ControlPlane = Omit<Store, 'pair' | 'close'> & {
  setAdminKey(adminKey: Uint8Array): Promise<void>;
};

export function controlPlane(x: Executor): ControlPlane {
  const audit = auditRows(x);
  return { ...coordinatorRows(x), ...registry(x), ...epochRows(x, audit.appendWith), ...audit, ...queryRows(x, audit.appendWith), ...hitRows(x, audit.appendWith) };
}
