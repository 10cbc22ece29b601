// Agreements as this agency decided on them (protocol/SPEC.md §8.6;
// clients/README-cli.md, "concordat agreements"). An officer accepts one
// version of the terms by signing it with the agency's signing key; the
// signed copy is kept in the local store, and every later step — uploads,
// partner work, queries, answers — acts on that copy alone. What the
// coordinator lists is only a proposal: it can offer terms, never change the
// terms an agency accepted.
import { bytesToHex, equalBytes, hexToBytes } from '../../protocol/bytes.js';
import { acceptAgreement, agreementDigest, parseAgreement, partyOf, verifyAcceptance, type AgreementTerms } from '../../protocol/agreement.js';
import { canonicalJson } from '../../protocol/canonical.js';
import { DocumentError, fingerprint, signingPublicKey } from '../../protocol/signed.js';
import type { AgreementVersion } from '../sdk/api.js';
import type { CoordinatorClient } from '../sdk/client.js';
import { AgencyError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { appendAudit } from './audit.js';
import type { Agency } from './config.js';

export type LocalDecision = 'accepted' | 'rejected';

export interface LocalAgreement {
  id: string;
  version: number;
  terms: AgreementTerms;
  status: LocalDecision;
  officer: string;
  decidedAt: string;
  signature: string | null;
}

interface Row {
  id: string;
  version: number;
  terms: string;
  status: string;
  officer: string;
  decided_at: string;
  signature: string | null;
}

function fromRow(r: Row): LocalAgreement {
  return {
    id: r.id,
    version: r.version,
    terms: parseAgreement(JSON.parse(r.terms)),
    status: r.status === 'accepted' ? 'accepted' : 'rejected',
    officer: r.officer,
    decidedAt: r.decided_at,
    signature: r.signature,
  };
}

/** This agency's decision on one version, if any. */
export function localAgreement(store: Store, id: string, version: number): LocalAgreement | undefined {
  const r = store.sqlite.prepare('SELECT * FROM agreements WHERE id = ? AND version = ?').get(id, version) as Row | undefined;
  return r ? fromRow(r) : undefined;
}

export function localAgreements(store: Store): LocalAgreement[] {
  return (store.sqlite.prepare('SELECT * FROM agreements ORDER BY id, version').all() as Row[]).map(fromRow);
}

/** The highest version of `id` this agency accepted (0 when none): nothing under a lower one is acted on (§8.6). */
export function highestAccepted(store: Store, id: string): number {
  return (store.sqlite.prepare("SELECT coalesce(max(version), 0) FROM agreements WHERE id = ? AND status = 'accepted'").pluck().get(id) as number) ?? 0;
}

export type AcceptedCheck = { ok: true; terms: AgreementTerms } | { ok: false; reason: 'not_accepted' | 'superseded'; message: string };

/**
 * The terms this agency acts on for `(id, version)`: only a version it
 * accepted itself, and only the highest one it accepted.
 */
export function acceptedTerms(store: Store, id: string, version: number): AcceptedCheck {
  const local = localAgreement(store, id, version);
  if (!local || local.status !== 'accepted') {
    return { ok: false, reason: 'not_accepted', message: `agreement ${id} version ${version} is not accepted by this agency (concordat agreements accept)` };
  }
  const highest = highestAccepted(store, id);
  if (version < highest) return { ok: false, reason: 'superseded', message: `agreement ${id} version ${version} is older than version ${highest} accepted here` };
  return { ok: true, terms: local.terms };
}

// ---- what an officer sees ----

export interface PartyView {
  agency: string;
  fingerprint: string;
  /** This agency's own entry. */
  self: boolean;
  /** The coordinator lists a valid acceptance by this party. */
  accepted: boolean;
  rejected: boolean;
}

export interface AgreementView {
  id: string;
  version: number;
  /** The coordinator's status of the version. */
  status: string;
  /** This agency's decision. */
  local: LocalDecision | null;
  digest: string;
  terms: AgreementTerms;
  parties: PartyView[];
  /** Set when the terms list another key for this agency than its signing.pub. */
  ownKeyMismatch: boolean;
}

/** Parses one listed version's terms strictly (the coordinator's list is only a proposal). */
export function termsOf(v: AgreementVersion): AgreementTerms {
  try {
    return parseAgreement(v.terms);
  } catch (e) {
    const field = e instanceof DocumentError ? e.field : '';
    throw new AgencyError(`the coordinator lists terms for an agreement that are not valid terms (${field || 'document'}: ${e instanceof Error ? e.message : String(e)})`);
  }
}

export function viewOf(agency: Agency, store: Store, v: AgreementVersion): AgreementView {
  const terms = termsOf(v);
  const own = bytesToHex(signingPublicKey(agency.signingKey));
  const me = partyOf(terms, agency.agency);
  return {
    id: terms.id,
    version: terms.version,
    status: v.status,
    local: localAgreement(store, terms.id, terms.version)?.status ?? null,
    digest: agreementDigest(terms),
    terms,
    parties: terms.parties.map((p) => ({
      agency: p.agency,
      fingerprint: fingerprint(hexToBytes(p.signingKey)),
      self: p.agency === agency.agency,
      // Only an acceptance that verifies under the party's key in these terms counts.
      accepted: v.acceptances.some((a) => a.agency === p.agency && /^[0-9a-f]{128}$/.test(a.signature) && verifyAcceptance(terms, p.agency, hexToBytes(a.signature))),
      rejected: v.rejections.some((r) => r.agency === p.agency),
    })),
    ownKeyMismatch: me !== undefined && me.signingKey !== own,
  };
}

/** Every version the coordinator lists for this agency, with the local decision. */
export async function listAgreements(agency: Agency, store: Store, client: CoordinatorClient): Promise<AgreementView[]> {
  return (await client.agreements()).map((v) => viewOf(agency, store, v));
}

/** The version to act on: `version` if given, else the highest the coordinator lists for `id`. */
async function findVersion(client: CoordinatorClient, id: string, version: number | undefined): Promise<AgreementVersion> {
  const all = (await client.agreements()).filter((v) => v.terms.id === id);
  if (all.length === 0) throw new AgencyError(`the coordinator lists no agreement ${id} for this agency`);
  const pick = version === undefined ? all.reduce((a, b) => (b.terms.version > a.terms.version ? b : a)) : all.find((v) => v.terms.version === version);
  if (!pick) throw new AgencyError(`the coordinator lists no version ${version} of agreement ${id} (versions: ${all.map((v) => v.terms.version).join(', ')})`);
  return pick;
}

export async function showAgreement(agency: Agency, store: Store, client: CoordinatorClient, id: string, version?: number): Promise<AgreementView> {
  return viewOf(agency, store, await findVersion(client, id, version));
}

export interface DecisionResult {
  view: AgreementView;
  /** False when this agency had decided the same way already (nothing changed). */
  changed: boolean;
}

/**
 * Accepts one version: checks that the terms are valid and list this agency
 * with its own signing key, signs them, posts the signature and keeps the
 * terms and signature locally, with the officer, in the local audit trail.
 * `confirm` is asked after the checks and before anything is signed.
 */
export async function acceptAgreementVersion(
  agency: Agency,
  store: Store,
  client: CoordinatorClient,
  o: { id: string; version?: number; officer: string; confirm?: (v: AgreementView) => Promise<boolean> },
): Promise<DecisionResult> {
  const listed = await findVersion(client, o.id, o.version);
  const view = viewOf(agency, store, listed);
  const t = view.terms;
  const subject = `${t.id} v${t.version}`;
  const refuse = (why: string, message: string): never => {
    appendAudit(store, { officer: o.officer, action: 'agreement.accept', subject, outcome: 'refused', detail: { reason: why, digest: view.digest } });
    throw new AgencyError(message);
  };
  const me = partyOf(t, agency.agency);
  if (!me) refuse('not-a-party', `agreement ${subject} does not list this agency (${agency.agency}) as a party`);
  if (view.ownKeyMismatch) refuse('own-key', `agreement ${subject} lists another signing key for ${agency.agency} than ${agency.dir}/signing.pub: refusing to accept`);
  const local = localAgreement(store, t.id, t.version);
  if (local?.status === 'rejected') refuse('rejected', `agreement ${subject} was rejected here on ${local.decidedAt} by ${local.officer}; a changed agreement is a new version`);
  if (t.version < highestAccepted(store, t.id)) refuse('superseded', `agreement ${t.id}: version ${highestAccepted(store, t.id)} is accepted here; an older version cannot be accepted`);
  if (local && local.status === 'accepted' && !equalBytes(canonicalJson(local.terms), canonicalJson(t))) {
    refuse('terms-differ', `agreement ${subject}: the coordinator lists other terms than the ones accepted here under the same version`);
  }
  if (o.confirm && !local && !(await o.confirm(view))) {
    appendAudit(store, { officer: o.officer, action: 'agreement.accept', subject, outcome: 'refused', detail: { reason: 'not-confirmed', digest: view.digest } });
    throw new AgencyError('not accepted (not confirmed)');
  }
  const signature = acceptAgreement(t, agency.agency, agency.signingKey);
  // Kept locally first: a lost response must not leave the coordinator holding an acceptance this store does not.
  const decidedAt = local?.decidedAt ?? new Date().toISOString();
  store.sqlite
    .prepare(
      `INSERT INTO agreements (id, version, terms, status, officer, decided_at, signature) VALUES (?, ?, ?, 'accepted', ?, ?, ?)
       ON CONFLICT (id, version) DO NOTHING`,
    )
    .run(t.id, t.version, new TextDecoder().decode(canonicalJson(t)), local?.officer ?? o.officer, decidedAt, bytesToHex(signature));
  const after = await client.acceptAgreement(t.id, t.version, signature);
  if (!local) {
    appendAudit(store, { officer: o.officer, action: 'agreement.accepted', subject, outcome: 'ok', detail: { digest: view.digest, parties: t.parties.map((p) => p.agency) } });
  }
  return { view: viewOf(agency, store, after), changed: !local };
}

/** Rejects one version, at the coordinator and locally (an accepted version cannot be rejected here). */
export async function rejectAgreementVersion(
  agency: Agency,
  store: Store,
  client: CoordinatorClient,
  o: { id: string; version?: number; officer: string; confirm?: (v: AgreementView) => Promise<boolean> },
): Promise<DecisionResult> {
  const listed = await findVersion(client, o.id, o.version);
  const view = viewOf(agency, store, listed);
  const t = view.terms;
  const subject = `${t.id} v${t.version}`;
  const local = localAgreement(store, t.id, t.version);
  if (local?.status === 'accepted') {
    appendAudit(store, { officer: o.officer, action: 'agreement.reject', subject, outcome: 'refused', detail: { reason: 'accepted', digest: view.digest } });
    throw new AgencyError(`agreement ${subject} was accepted here on ${local.decidedAt} by ${local.officer}; it cannot be rejected`);
  }
  if (o.confirm && !local && !(await o.confirm(view))) {
    appendAudit(store, { officer: o.officer, action: 'agreement.reject', subject, outcome: 'refused', detail: { reason: 'not-confirmed', digest: view.digest } });
    throw new AgencyError('not rejected (not confirmed)');
  }
  store.sqlite
    .prepare(
      `INSERT INTO agreements (id, version, terms, status, officer, decided_at, signature) VALUES (?, ?, ?, 'rejected', ?, ?, NULL)
       ON CONFLICT (id, version) DO NOTHING`,
    )
    .run(t.id, t.version, new TextDecoder().decode(canonicalJson(t)), o.officer, new Date().toISOString());
  const after = await client.rejectAgreement(t.id, t.version);
  if (!local) appendAudit(store, { officer: o.officer, action: 'agreement.rejected', subject, outcome: 'ok', detail: { digest: view.digest } });
  return { view: viewOf(agency, store, after), changed: !local };
}
