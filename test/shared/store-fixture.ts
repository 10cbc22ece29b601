// Records for the store contract tests (store-*.test.ts): a fresh,
// initialised store of the runtime the suite runs on, and agencies,
// agreements and queries to put in it.
import { afterEach, beforeEach } from 'vitest';
import { randomBytes } from '../../protocol/rng.js';
import type { AgencyRecord, AgreementRecord, NewQuery, PairRecord, Store } from '../../src/store/types.js';
import { openTestStore, type TestStore } from '../coordinator-runtime.js';

export const AT = '2026-03-10T12:00:00.000Z';
export const DAY = '2026-03-10';

/** An empty store after `coordinator init`: epoch e1, default configuration. */
export async function initialisedStore(): Promise<TestStore> {
  const t = await openTestStore();
  await t.store.initialise({ adminKey: randomBytes(32), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: AT }, at: AT });
  return t;
}

export function agency(id: string, over: Partial<AgencyRecord> = {}): AgencyRecord {
  return { id, name: `${id} agency`, country: 'ESP', signingKey: new Uint8Array(32).fill(id.length), createdAt: AT, ...over };
}

export function pairsOf(agreementId: string, parties: readonly string[]): PairRecord[] {
  const out: PairRecord[] = [];
  const sorted = [...parties].sort();
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i] as string;
      const b = sorted[j] as string;
      out.push({ id: `${agreementId}~${a}~${b}`, agreementId, agencies: [a, b] });
    }
  }
  return out;
}

export function agreement(id: string, parties: string[], over: Partial<AgreementRecord> = {}): AgreementRecord {
  return {
    id,
    parties: [...parties].sort(),
    kinds: ['email', 'passport'],
    mode: 'reveal',
    validFrom: '2026-01-01',
    validUntil: '2026-12-31',
    maxSetSize: 1000,
    legalBasis: 'Test treaty art. 1',
    createdAt: AT,
    purposes: ['terrorism'],
    queryQuota: { perDay: 5, maxValues: 10 },
    ...over,
  };
}

/** Agencies ES, PT and FR with agreements es-pt and es-fr. */
export async function registered(t: TestStore): Promise<void> {
  for (const id of ['ES', 'PT', 'FR']) await t.store.putAgency(agency(id));
  await t.store.insertAgreement(agreement('es-pt', ['ES', 'PT']), pairsOf('es-pt', ['ES', 'PT']));
  await t.store.insertAgreement(agreement('es-fr', ['ES', 'FR']), pairsOf('es-fr', ['ES', 'FR']));
}

let queryCount = 0;

/** A query from ES to the given partners (es-pt and es-fr pairs), two blinded values. */
export function newQuery(partners: readonly ('PT' | 'FR')[] = ['PT'], over: Partial<NewQuery> = {}): NewQuery {
  return {
    id: `q-${++queryCount}-${Math.random().toString(36).slice(2, 8)}`,
    requester: 'ES',
    kind: 'email',
    purpose: 'terrorism',
    caseRef: 'OP-1',
    officer: 'es-officer',
    epoch: 'e1',
    blinded: randomBytes(64),
    values: 2,
    createdAt: AT,
    legs: partners.map((p) => ({ partner: p, agreementId: `es-${p.toLowerCase()}`, pairId: `es-${p.toLowerCase()}~ES~${p}` })),
    ...over,
  };
}

export const quotaOf = (partners: readonly ('PT' | 'FR')[], perDay: number) => partners.map((p) => ({ agreementId: `es-${p.toLowerCase()}`, perDay }));

/** A fresh initialised store for every test of the file, with ES, PT and FR and their agreements when `registered`. */
export function eachStore(opts: { registered?: boolean } = {}): { readonly t: TestStore; readonly store: Store } {
  let current: TestStore | undefined;
  beforeEach(async () => {
    current = await initialisedStore();
    if (opts.registered) await registered(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const open = (): TestStore => {
    if (!current) throw new Error('store fixture: no store outside a test');
    return current;
  };
  return {
    get t() {
      return open();
    },
    get store() {
      return open().store;
    },
  };
}
