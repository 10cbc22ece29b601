// `concordat query`: targeted hit/no-hit queries (protocol/SPEC.md §3.2,
// src/API.md "Targeted queries"), the flow from blinding to result.
//
// Each value is blinded with a fresh scalar r and only r·HashToGroup(x) leaves
// this process (protocol.ts). The partner's responder answers k_B·(r·H(x))
// with a batched DLEQ proof against its published epoch key; this client
// verifies the proof itself — against the partner's pair key whose epoch-key
// statement verifies under the partner's pinned signing key — unblinds,
// applies its own pair key and looks the
// token up among the tokens it computed for the partner's set in the nightly
// flow, less the positions the partner withdrew (legs.ts). A proof that does
// not verify is an ERROR for that partner — never a "no hit". Each hit is
// reported with evidence (protocol/SPEC.md §8.11) built from its blind, so
// the coordinator records only hits that are answers to what was asked.
//
// Every leg carries this agency's signature over its `query` statement
// (protocol/SPEC.md §8.9): the responder's client answers only what this
// agency signed, under an agreement both accepted.
//
// The blinds are kept in the local store (storage.ts) until every leg is
// answered (and its outcome reported) or expired, so `query --status ID` can
// finish a query whose partner was offline when it was asked.
import { randomUUID } from 'node:crypto';
import { agreementRef } from '../../../protocol/agreement.js';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { IdentifierKind } from '../../../protocol/identifiers/index.js';
import { queryValuesDigest, signQuery } from '../../../protocol/signed-query.js';
import type { CreateQueryReply, Me, QueryState } from '../../sdk/api.js';
import { AgencyError, CoordinatorError } from '../../sdk/errors.js';
import { observeEpoch } from '../epoch-secret.js';
import { expiredLeg, finishLeg, prefetch, type Finished } from './legs.js';
import { blindValues } from './protocol.js';
import { acceptedPairs, checkRequest, legPairFor, partnersFor } from './request.js';
import { closeQuery, loadQuery, localReport, openLegs, recordOutcome, recordQuery, recordRefusal, type SignedLeg } from './storage.js';
import { isFinal, type LegState, type QueryContext, type QueryReport, type QueryRequest } from './types.js';

export { CASE_REF_MAX, canonicalizeValues, pairAllows, type QueryValues } from './request.js';
export { localReport } from './storage.js';
export type { LegReport, LegState, QueryContext, QueryReport, QueryRequest, ValueResult } from './types.js';

/** Longest single long poll of GET /v1/queries/{id} (src/API.md: the coordinator holds it up to 30 s). */
const POLL_SECONDS = 25;

/** Creates the query at the coordinator and records it (with its blinds) locally. Returns the query id. */
export async function createQuery(ctx: QueryContext, r: QueryRequest, canonical: string[], me?: Me): Promise<string> {
  checkRequest(r);
  const kind = r.kind as IdentifierKind;
  const self = ctx.agency.agency;
  const current = me ?? (await ctx.client.me());
  observeEpoch(ctx.store, ctx.agency.secrets, current.epoch.id, 'GET /v1/me');
  const today = new Date().toISOString().slice(0, 10);
  const accepted = acceptedPairs(ctx.store, self, current);
  const partners = partnersFor(accepted, r, today);
  const q = blindValues(ctx.engine, kind, canonical);
  const asked = { kind, purpose: r.purpose, partners, values: canonical.length };
  const id = randomUUID();
  // Whole milliseconds, "Z": the RFC 3339 form the statement schema takes.
  const createdAt = new Date().toISOString();
  const caseRef = r.caseRef.trim();
  const valuesSha256 = queryValuesDigest(q.blinded);
  const legs: Array<SignedLeg & { signature: string }> = partners.map((partner) => {
    const a = legPairFor(accepted, partner, kind, r.purpose, today);
    if (!a) {
      recordRefusal(ctx.store, r, { ...asked, reason: 'not-accepted', partner });
      throw new AgencyError(`no agreement accepted here with ${partner}, valid today, allows ${kind} queries for purpose ${r.purpose}; nothing was sent`);
    }
    const agreement = agreementRef(a.terms);
    const statement = {
      id,
      requester: self,
      responder: partner,
      pair: a.pair.pair,
      agreement,
      epoch: current.epoch.id,
      kind,
      purpose: r.purpose,
      caseRef,
      count: q.blinded.length,
      valuesSha256,
      createdAt,
    };
    return { partner, pair: a.pair.pair, agreement, epoch: current.epoch.id, signature: bytesToHex(signQuery(statement, ctx.agency.signingKey)) };
  });
  let reply: CreateQueryReply;
  try {
    reply = await ctx.client.createQuery({
      queryId: id,
      createdAt,
      legs: legs.map((l) => ({ partner: l.partner, agreement: l.agreement, pair: l.pair, epoch: l.epoch, signature: l.signature })),
      kind,
      purpose: r.purpose,
      caseRef,
      officer: r.officer,
      blinded: q.blinded.map(bytesToHex),
    });
  } catch (e) {
    if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) recordRefusal(ctx.store, r, { ...asked, reason: e.slug ?? String(e.status) });
    throw e;
  }
  if (reply.queryId !== id) throw new AgencyError('the coordinator answered the query under another id than the one signed');
  recordQuery(ctx.store, { id, kind, purpose: r.purpose, caseRef, officer: r.officer, values: canonical.length, ...q }, legs, asked);
  return id;
}

/**
 * Follows a query until every leg is final or `timeoutSeconds` pass:
 * long-polls the coordinator, finishes answered legs (proof, unblind, token
 * check), reports their outcome and reads the handles back. A query already
 * closed locally is returned from the store without a request.
 */
export async function followQuery(ctx: QueryContext, id: string, timeoutSeconds: number, o: { fresh?: boolean } = {}): Promise<QueryReport> {
  const now = ctx.now ?? (() => Date.now() / 1000);
  const local = loadQuery(ctx.store, id);
  if (openLegs(ctx.store, id).length === 0 || !local.blinds || !local.blinded) return localReport(ctx.store, id);

  const deadline = now() + Math.max(0, timeoutSeconds);
  const notes = new Map<string, { state: LegState; error?: string; detail?: string; epoch?: string }>();
  // What finishing a leg needs besides the answer (the current epoch, the pair the leg runs under, how
  // many chunks the partner's side has) is fetched while the answers are awaited, off the critical path.
  const ahead = prefetch(ctx, local, openLegs(ctx.store, id));
  for (let first = true; ; first = false) {
    const left = deadline - now();
    // A query just created is pending everywhere: wait for answers at once. Following one up (--status)
    // first looks without waiting, as some legs may already be answered and only need finishing here.
    const wait = first && !o.fresh ? 0 : Math.max(0, Math.min(POLL_SECONDS, Math.ceil(left)));
    const state: QueryState = await ctx.client.getQuery(id, wait);
    const open = new Set(openLegs(ctx.store, id));
    const finished: Finished[] = [];
    for (const leg of state.legs) {
      if (!open.has(leg.partner)) continue;
      if (leg.status === 'expired') {
        finished.push(expiredLeg(leg));
        continue;
      }
      if (leg.status === 'refused') {
        // The partner's own client refused to evaluate (its checks of the signed query, src/API.md
        // "Targeted queries"): no answer will come, so waiting longer only hides it.
        const why = 'reason' in leg && typeof leg.reason === 'string' ? leg.reason : 'unstated';
        notes.set(leg.partner, { state: 'error', error: 'refused', detail: `the partner's client refused the query (${why}); nothing was evaluated` });
        continue;
      }
      if (leg.status !== 'answered') {
        notes.set(leg.partner, { state: 'pending' });
        continue;
      }
      const f = await finishLeg(ctx, local, leg, ahead);
      if ('incomplete' in f) notes.set(leg.partner, { state: 'incomplete', error: 'incomplete', detail: f.incomplete, ...(leg.epoch ? { epoch: leg.epoch } : {}) });
      else finished.push(f);
    }
    // A hit whose evidence the coordinator refuses (protocol/SPEC.md §8.11) — typically an identifier the
    // partner withdrew since this agency's last sync — keeps its leg open: the others are reported without it.
    while (finished.length > 0) {
      try {
        const reply = await ctx.client.postOutcome(id, finished.map((f) => f.outcome));
        recordOutcome(ctx.store, id, finished, reply.legs);
        break;
      } catch (e) {
        const at = e instanceof CoordinatorError && e.status === 422 ? /^body\.legs\[(\d+)\]\.hits/.exec(e.field ?? '') : null;
        const refused = at ? finished[Number(at[1])] : undefined;
        if (!refused) throw e;
        finished.splice(finished.indexOf(refused), 1);
        notes.set(refused.partner, {
          state: 'incomplete',
          error: 'hit-refused',
          detail: `the coordinator refused the evidence of a hit (${(e as CoordinatorError).detail ?? 'no detail'}); the partner may have withdrawn the value: run \`concordat sync\`, then \`concordat query --status ${id}\``,
          epoch: refused.epoch,
        });
      }
    }
    for (const f of finished) notes.delete(f.partner);
    const stillOpen = openLegs(ctx.store, id);
    // Answered-but-incomplete legs need a sync, not more waiting.
    const waitingFor = stillOpen.filter((p) => notes.get(p)?.state === 'pending' || !notes.has(p));
    if (stillOpen.length === 0 || waitingFor.length === 0 || deadline - now() <= 0) break;
  }
  if (openLegs(ctx.store, id).length === 0) closeQuery(ctx.store, id);
  const report = localReport(ctx.store, id);
  for (const leg of report.legs) {
    const n = notes.get(leg.partner);
    if (!isFinal(leg.state) && n) Object.assign(leg, n);
  }
  return report;
}
