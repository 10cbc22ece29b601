// The shapes a targeted query takes in this client: what is asked, and what
// each partner's leg came to (clients/README-cli.md, "concordat query").
import type { Engine } from '../../../protocol/engine/index.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import type { Store } from '../../store/db.js';
import type { Agency } from '../config.js';

export interface QueryRequest {
  /** Explicit partners, or undefined with `all`. */
  partners?: string[];
  all?: boolean;
  kind: string;
  purpose: string;
  caseRef: string;
  officer: string;
}

export interface QueryContext {
  agency: Agency;
  store: Store;
  client: CoordinatorClient;
  engine: Engine;
  /** Seconds since the Unix epoch (tests). */
  now?: () => number;
}

export interface ValueResult {
  index: number;
  hit: boolean;
  handle?: string;
}

/** done, error and expired are final; pending and incomplete (answered, not checkable before a sync) are not. */
export type LegState = 'done' | 'error' | 'expired' | 'pending' | 'incomplete';

export function isFinal(s: LegState): boolean {
  return s === 'done' || s === 'error' || s === 'expired';
}

export interface LegReport {
  partner: string;
  state: LegState;
  epoch?: string;
  /** bad-proof | key-mismatch | unanswered | incomplete | … */
  error?: string;
  detail?: string;
  results?: ValueResult[];
}

export interface QueryReport {
  queryId: string;
  kind: string;
  purpose: string;
  caseRef: string;
  values: number;
  legs: LegReport[];
}
