// Records for the store contract tests (store-*.test.ts): a fresh,
// initialised store of the runtime the suite runs on, and agencies,
// agreements and queries to put in it.
import { afterEach, beforeEach } from 'vitest';
import { randomBytes } from '../../protocol/rng.js';
import type { AgreementTerms } from '../../protocol/agreement.js';
import { bytesToHex } from '../../protocol/bytes.js';
import type { AgencyRecord, NewAgreementVersion, NewQuery, PairRecord, Store } from '../../src/store/types.js';
import { openTestStore, type TestStore } from '../coordinator-runtime.js';

export const AT = '2026-03-10T12:00:00.000Z';
export const DAY = '2026-03-10';

/** An empty store after `coordinator init`: epoch e1, default configuration. */
export async function initialisedStore(): Promise<TestStore> {
  const t = await openTestStore();
  await t.store.initialise({ adminKey: randomBytes(32), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: AT }, at: AT });
  return t;
}

/** A signing key of its own per id: agreement terms refuse two parties with one key (protocol/SPEC.md §8.6). */
export function keyOf(id: string): Uint8Array {
  const k = new Uint8Array(32);
  for (let i = 0; i < id.length && i < 31; i++) k[i] = id.charCodeAt(i);
  k[31] = id.length;
  return k;
}

export function agency(id: string, over: Partial<AgencyRecord> = {}): AgencyRecord {
  return { id, name: `${id} agency`, country: 'ESP', signingKey: keyOf(id), createdAt: AT, ...over };
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

/** Canonical terms of version `over.version ?? 1` (protocol/SPEC.md §8.6). */
export function terms(id: string, parties: string[], over: Partial<AgreementTerms> = {}): AgreementTerms {
  return {
    id,
    version: 1,
    parties: [...parties].sort().map((agency) => ({ agency, signingKey: bytesToHex(keyOf(agency)) })),
    kinds: ['email', 'passport'],
    mode: 'reveal',
    purposes: ['terrorism'],
    validFrom: '2026-01-01',
    validUntil: '2026-12-31',
    maxSetSize: 1000,
    queryQuota: { perDay: 5, maxValues: 10 },
    legalBasis: 'Test treaty art. 1',
    ...over,
  };
}

export function proposal(id: string, parties: string[], over: Partial<AgreementTerms> = {}): NewAgreementVersion {
  const t = terms(id, parties, over);
  return { terms: t, legalBasis: t.legalBasis, createdAt: AT };
}

/** A stand-in acceptance signature: the store keeps what the routes verified, it verifies nothing itself. */
export function acceptanceSig(agency: string, version = 1): Uint8Array {
  return new Uint8Array(64).fill((agency.charCodeAt(0) + version) % 256);
}

/** Every party accepts version `version`, and it becomes active. */
export async function activate(store: Store, id: string, version = 1): Promise<void> {
  const v = await store.getAgreementVersion(id, version);
  if (!v) throw new Error(`activate: no ${id} v${version}`);
  for (const p of v.terms.parties) await store.acceptAgreementVersion(id, version, { agency: p.agency, signature: acceptanceSig(p.agency, version), acceptedAt: AT });
  await store.activateAgreementVersion(id, version, AT);
}

/** Agencies ES, PT and FR with active agreements es-pt and es-fr. */
export async function registered(t: TestStore): Promise<void> {
  for (const id of ['ES', 'PT', 'FR']) await t.store.putAgency(agency(id));
  for (const [id, parties] of [['es-pt', ['ES', 'PT']], ['es-fr', ['ES', 'FR']]] as const) {
    await t.store.insertAgreementVersion(proposal(id, [...parties]), pairsOf(id, parties));
    await activate(t.store, id);
  }
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
    createdAt: over.createdAt ?? AT,
    statedAt: over.createdAt ?? AT,
    legs: partners.map((p) => ({
      partner: p,
      agreementId: `es-${p.toLowerCase()}`,
      agreementVersion: 1,
      pairId: `es-${p.toLowerCase()}~ES~${p}`,
      epoch: 'e1',
      signature: new Uint8Array(64).fill(p.charCodeAt(0)),
    })),
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
