// What every phase of a sync works with: who this agency is, the epoch, each
// accepted pair's terms and keys, the coordinator, the local store's sync
// statements, and where output goes. Data one phase computes for the next is
// passed as arguments, not here.
import type { AgreementRef, AgreementTerms } from '../../../protocol/agreement.js';
import type { KeyPair } from '../../../protocol/keys.js';
import type { Store } from '../../store/db.js';
import type { EnginePool } from '../../../protocol/engine/pool.js';
import type { Me } from '../../sdk/api.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import type { Agency } from '../config.js';
import type { ProgressFactory } from '../progress.js';
import type { PartnerStore } from './partner-store.js';
import type { SyncStore } from './store.js';

/** What a sync acts on for one pair: only what this agency accepted and verified itself. */
export interface PairCrypto {
  /** The locally accepted terms (never the coordinator's listing). */
  terms: AgreementTerms;
  ref: AgreementRef;
  /** This agency's key for the pair in the epoch (protocol/SPEC.md §8.5). */
  key: KeyPair;
  /** The partner's pinned Ed25519 signing key, from the accepted terms. */
  partnerSigningKey: Uint8Array;
  /** The partner's pair key, once its statement verified under the pinned key; null until published. */
  partnerKey: Uint8Array | null;
}

export interface SyncContext {
  agency: Agency;
  client: CoordinatorClient;
  /** `/v1/me`, with `pairs` narrowed to the accepted pairs and their terms taken from the local copy. */
  me: Me;
  epoch: string;
  /** Per accepted pair of this round. */
  pairs: Map<string, PairCrypto>;
  store: Store;
  sides: SyncStore;
  partners: PartnerStore;
  /** Summary lines (stdout). */
  log: (line: string) => void;
  /** Warnings and failures (stderr). */
  warn: (line: string) => void;
  progress: ProgressFactory;
  /** The worker pool, started on first use (a sync with nothing to blind or tokenise starts none). */
  pool: () => Promise<EnginePool>;
  /** Canaries for a chunk holding this many real elements (protocol/canary.ts, SPEC §1.6). */
  canaryCount: (realElements: number) => number;
  /** Elements per chunk (≤ 65,536). */
  chunkElements: number;
  /**
   * HashToGroup(Input(kind, canonical)) of identifiers blinded in this run,
   * when it has more than one pair: the map does not depend on any key, so
   * each pair multiplies the same point by its own key (protocol/SPEC.md
   * §8.5) instead of hashing again. Held in memory for the run only; it is
   * no more sensitive than the identifiers themselves.
   */
  hashed: Map<string, Uint8Array> | undefined;
  signal: AbortSignal | undefined;
}

export const nowIso = (): string => new Date().toISOString();

/** The pair's key material; a pair that was not accepted and verified this round has none. */
export function pairCrypto(ctx: Pick<SyncContext, 'pairs'>, pair: string): PairCrypto {
  const c = ctx.pairs.get(pair);
  if (!c) throw new Error(`internal: pair ${pair} was not accepted in this sync round`);
  return c;
}
