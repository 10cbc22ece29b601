// What every phase of a sync works with: who this agency is, the epoch and its
// key, the coordinator, the local store's sync statements, and where output
// goes. Data one phase computes for the next is passed as arguments, not here.
import type { KeyPair } from '../../../protocol/keys.js';
import type { EnginePool } from '../../../protocol/engine/pool.js';
import type { Me } from '../../sdk/api.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import type { Agency } from '../config.js';
import type { ProgressFactory } from '../progress.js';
import type { PartnerStore } from './partner-store.js';
import type { SyncStore } from './store.js';

export interface SyncContext {
  agency: Agency;
  client: CoordinatorClient;
  me: Me;
  epoch: string;
  key: KeyPair;
  sides: SyncStore;
  partners: PartnerStore;
  /** Summary lines (stdout). */
  log: (line: string) => void;
  /** Warnings and failures (stderr). */
  warn: (line: string) => void;
  progress: ProgressFactory;
  /** The worker pool, started on first use (a sync with nothing to blind or tokenise starts none). */
  pool: () => Promise<EnginePool>;
  /** Canaries for a side built for the first time in the epoch. */
  canaryCount: () => number;
  /** Elements per chunk (≤ 65,536). */
  chunkElements: number;
  signal: AbortSignal | undefined;
}

export const nowIso = (): string => new Date().toISOString();
