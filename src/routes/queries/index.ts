// Targeted hit/no-hit queries (protocol/SPEC.md §3.2, §8.9, src/API.md "Targeted queries").
// Every leg carries the requester's signature over its `query` statement; the
// responder checks it against the terms it accepted before evaluating
// anything, and may refuse the leg (POST /v1/queries/{id}/refusal).
// The requester sends r·HashToGroup(q) per value; the partner's online
// responder picks it up from its inbox and answers k_B·(r·H(q)) with a DLEQ
// proof (RFC 9497 §2.2) that the coordinator checks against the responder's
// published key for the query's pair; the requester unblinds, finishes with its own key and
// reports each hit with evidence (protocol/SPEC.md §8.11): the unblinded element
// and a proof that it is the answer relayed for that value, which the coordinator
// checks and finds among the responder's uploaded elements before recording it.
// The coordinator never sees a value: only blinded, evaluated and unblinded
// elements (the last, for hits, elements of the responder's side it already holds).
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bytesToHex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import { pack, unpack } from '../../../protocol/engine/types.js';
import { CONCORDAT_SUITE } from '../../../protocol/constants.js';
import { checkHitEvidence } from '../../../protocol/hit-evidence.js';
import { queryValuesDigest, verifyQuery } from '../../../protocol/signed-query.js';
import {
  answerBody,
  createQueryBody,
  ELEMENT_BYTES,
  getInbox,
  getQuery,
  outcomeBody,
  postAnswer,
  postOutcome,
  postQuery,
  postRefusal,
  QUERY_ID_PATTERN,
  refusalBody,
  waitParam,
  type answerResponse,
  type createQueryResponse,
  type inboxResponse,
  type outcomeResponse,
  type refusalResponse,
} from '../../../wire/index.js';
import type { JsonValue } from '../../audit.js';
import type { AppEnv, Services } from '../../context.js';
import { matchHandle } from '../../matching.js';
import { inboxKey, longPoll, queryKey } from '../../notify.js';
import { activePairsOf, auditEntry, sideOf } from '../../pairs.js';
import { ProblemError, type ProblemSlug } from '../../problem.js';
import { QUERY_LEG_TTL_MS } from '../../retention.js';
import { badSignature, verifies } from '../../signatures.js';
import type { AgencyRecord, AgreementRecord, PairRecord, QueryHitInput, QueryLegRecord, QueryRecord, Side } from '../../store/types.js';
import { parseJsonBody, parseWith, todayUTC } from '../../validation.js';
import { mount } from '../mount.js';

const ID = { id: QUERY_ID_PATTERN };

/** Query parameters of a long poll: `wait` only, 0..30 seconds; in milliseconds. */
function parseWait(c: Context<AppEnv>): number {
  const params = c.req.queries();
  for (const [name, values] of Object.entries(params)) {
    if (name !== 'wait') throw new ProblemError('validation', `query.${name}: unknown parameter`, { field: `query.${name}` });
    if (values.length !== 1) throw new ProblemError('validation', 'query.wait: give it once', { field: 'query.wait' });
  }
  const raw = params.wait?.[0];
  if (raw === undefined) return 0;
  return parseWith(waitParam, raw, 'query.wait') * 1000;
}

function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

function legExpired(leg: QueryLegRecord, now: Date): boolean {
  return leg.status === 'pending' && Date.parse(leg.createdAt) + QUERY_LEG_TTL_MS <= now.getTime();
}

function legStatus(leg: QueryLegRecord, now: Date): 'pending' | 'answered' | 'expired' | 'refused' {
  return legExpired(leg, now) ? 'expired' : leg.status;
}

/** Why no agreement allows this query with this partner, or the agreement that does (the first by id). */
function chooseAgreement(
  candidates: readonly { pair: PairRecord; agreement: AgreementRecord }[],
  kind: string,
  purpose: string,
): { ok: true; pair: PairRecord; agreement: AgreementRecord } | { ok: false; slug: ProblemSlug; detail: string } {
  const sorted = [...candidates].sort((a, b) => (a.agreement.id < b.agreement.id ? -1 : a.agreement.id > b.agreement.id ? 1 : 0));
  if (sorted.length === 0) return { ok: false, slug: 'no-agreement', detail: 'no agreement valid today covers targeted queries with this partner' };
  const reveal = sorted.filter((x) => x.agreement.mode === 'reveal');
  if (reveal.length === 0) return { ok: false, slug: 'count-mode', detail: 'the agreements with this partner are count-mode: they allow no targeted queries' };
  const withKind = reveal.filter((x) => x.agreement.kinds.includes(kind));
  if (withKind.length === 0) return { ok: false, slug: 'kind', detail: `no agreement with this partner covers the kind ${kind}` };
  const withPurpose = withKind.filter((x) => x.agreement.purposes.includes(purpose));
  const chosen = withPurpose[0];
  if (!chosen) return { ok: false, slug: 'purpose', detail: `no agreement with this partner covering ${kind} allows the purpose ${purpose}` };
  return { ok: true, ...chosen };
}

export function queryRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, postQuery, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const body = parseJsonBody(c.get('body'), createQueryBody);
    const now = svc.now();
    const values = body.blinded.length;
    // What every query audit entry records (src/API.md): never a value, element or token.
    const about: { [key: string]: JsonValue } = {
      requester: me.id,
      officer: body.officer,
      caseRef: body.caseRef,
      purpose: body.purpose,
      kind: body.kind,
      values,
      partners: body.legs.map((l) => l.partner),
    };
    const refuse = (slug: ProblemSlug, detail: string, extra: { field?: string; partner?: string } = {}, opts: { extensions?: { [k: string]: JsonValue }; headers?: Record<string, string> } = {}) =>
      new ProblemError(slug, detail, {
        ...(extra.field ? { field: extra.field } : {}),
        ...opts,
        audit: { action: 'query.refused', subject: me.id, detail: { ...about, ...(extra.partner ? { partner: extra.partner } : {}), reason: detail } },
      });

    const partners = body.legs.map((l) => l.partner);
    for (let i = 0; i < partners.length; i++) {
      if (partners[i] === me.id) throw refuse('validation', `body.legs[${i}].partner: an agency cannot query itself`, { field: `body.legs[${i}].partner` });
      if (partners.indexOf(partners[i] as string) !== i) throw refuse('validation', `body.legs[${i}].partner: partners must be distinct`, { field: `body.legs[${i}].partner` });
    }
    const deployment = await svc.store.getConfig();
    if (!deployment.purposes.includes(body.purpose)) {
      throw refuse('purpose', `the purpose ${body.purpose} is not in the deployment's list`, { field: 'body.purpose' });
    }
    const epoch = await svc.store.currentEpoch();
    const active = await activePairsOf(svc, me.id);
    const legs: { partner: string; agreement: AgreementRecord; pair: PairRecord; epoch: string; signature: Uint8Array }[] = [];
    for (const [i, leg] of body.legs.entries()) {
      const partner = leg.partner;
      const candidates = active.filter((x) => x.pair.agencies.includes(partner));
      const r = chooseAgreement(candidates, body.kind, body.purpose);
      if (!r.ok) throw refuse(r.slug, `${partner}: ${r.detail}`, { partner });
      // The leg names its pair and agreement version itself (they are signed); the coordinator only confirms they are in force.
      const named = candidates.find((x) => x.pair.id === leg.pair);
      if (!named || named.agreement.id !== leg.agreement.id || named.agreement.version !== leg.agreement.version) {
        throw refuse('conflict', `${partner}: the leg names another pair or agreement version than the one in force`, { field: `body.legs[${i}]`, partner });
      }
      const chosen = chooseAgreement([named], body.kind, body.purpose);
      if (!chosen.ok) throw refuse(chosen.slug, `${partner}: ${chosen.detail}`, { partner });
      if (leg.epoch !== epoch.id) {
        throw refuse('stale-epoch', `the current epoch is ${epoch.id}`, { field: `body.legs[${i}].epoch`, partner });
      }
      if (values > named.agreement.queryQuota.maxValues) {
        throw refuse('validation', `body.blinded: agreement ${named.agreement.id} allows at most ${named.agreement.queryQuota.maxValues} values per query`, {
          field: 'body.blinded',
          partner,
        });
      }
      legs.push({ partner, agreement: named.agreement, pair: named.pair, epoch: leg.epoch, signature: leg.signature });
    }
    const packed = pack(body.blinded, ELEMENT_BYTES);
    try {
      svc.checkElements(packed, 'body.blinded');
    } catch (err) {
      if (err instanceof DecodeError) throw refuse('validation', err.message, { field: err.field });
      throw err;
    }
    // Each leg's statement (protocol/SPEC.md §8.9), rebuilt from what the coordinator will relay.
    const valuesSha256 = queryValuesDigest(body.blinded);
    for (const [i, l] of legs.entries()) {
      const statement = {
        id: body.queryId,
        requester: me.id,
        responder: l.partner,
        pair: l.pair.id,
        agreement: { id: l.agreement.id, version: l.agreement.version },
        epoch: l.epoch,
        kind: body.kind,
        purpose: body.purpose,
        caseRef: body.caseRef,
        count: values,
        valuesSha256,
        createdAt: body.createdAt,
      };
      if (!verifies(() => verifyQuery(statement, me.signingKey, l.signature))) {
        throw badSignature(`body.legs[${i}].signature`, `${l.partner}: the query statement does not verify under the requester’s registered key`, {
          action: 'query.refused',
          subject: me.id,
          detail: { ...about, partner: l.partner, queryId: body.queryId },
        });
      }
    }
    const id = body.queryId;
    const quotas = [...new Map(legs.map((l) => [l.agreement.id, { agreementId: l.agreement.id, perDay: l.agreement.queryQuota.perDay }])).values()];
    const created = await svc.store.createQuery(
      {
        id,
        requester: me.id,
        kind: body.kind,
        purpose: body.purpose,
        caseRef: body.caseRef,
        officer: body.officer,
        epoch: epoch.id,
        blinded: packed,
        values,
        createdAt: now.toISOString(),
        statedAt: body.createdAt,
        legs: legs.map((l) => ({
          partner: l.partner,
          agreementId: l.agreement.id,
          agreementVersion: l.agreement.version,
          pairId: l.pair.id,
          epoch: l.epoch,
          signature: l.signature,
        })),
      },
      quotas,
      todayUTC(now),
      // The query and its entry commit together: no leg reaches an inbox unaudited.
      auditEntry(svc, {
        actor: me.id,
        action: 'query.created',
        subject: id,
        detail: { ...about, agreements: legs.map((l) => ({ id: l.agreement.id, version: l.agreement.version })), epoch: epoch.id },
      }),
    );
    if (!created.ok && created.reason === 'taken') {
      throw refuse('conflict', 'a query with this id exists: choose a fresh id', { field: 'body.queryId' });
    }
    if (!created.ok) {
      const resetsAt = nextUtcMidnight(now);
      const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000));
      const perDay = quotas.find((q) => q.agreementId === created.agreementId)?.perDay ?? 0;
      const partner = legs.find((l) => l.agreement.id === created.agreementId)?.partner;
      throw refuse(
        'quota',
        `agreement ${created.agreementId} allows ${perDay} queries per agency per UTC day; the quota resets at ${resetsAt.toISOString()}`,
        partner ? { partner } : {},
        { extensions: { resetsAt: resetsAt.toISOString() }, headers: { 'Retry-After': String(retryAfter) } },
      );
    }
    for (const l of legs) svc.notifier?.notify(inboxKey(l.partner));
    return c.json({ queryId: id, legs: legs.map((l) => ({ partner: l.partner, status: 'pending' as const })) } satisfies z.infer<typeof createQueryResponse>, 201);
  });

  mount(app, getInbox, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const waitMs = parseWait(c);
    const list = await longPoll(
      svc.notifier,
      inboxKey(me.id),
      waitMs,
      async () => {
        const since = new Date(svc.now().getTime() - QUERY_LEG_TTL_MS).toISOString();
        // A leg without the requester's signature is one the responder would refuse (protocol/SPEC.md §8.9).
        const entries = (await svc.store.inbox(me.id, since)).filter((e) => e.blinded !== null && e.signature !== null && e.agreementVersion !== null);
        return { done: entries.length > 0, value: entries };
      },
      pollSignal(c),
    );
    return c.json({
      queries: list.map((e) => ({
        queryId: e.queryId,
        from: e.from,
        pair: e.pairId,
        agreement: { id: e.agreementId, version: e.agreementVersion as number },
        kind: e.kind,
        purpose: e.purpose,
        caseRef: e.caseRef,
        epoch: e.epoch,
        blinded: unpack(e.blinded as Uint8Array, ELEMENT_BYTES).map(bytesToHex),
        createdAt: e.createdAt,
        signature: bytesToHex(e.signature as Uint8Array),
      })),
    } satisfies z.infer<typeof inboxResponse>);
  });

  /** What ends a long poll early: the client going away, or the server beginning to stop. */
  function pollSignal(c: Context<AppEnv>): AbortSignal {
    return svc.draining ? AbortSignal.any([c.req.raw.signal, svc.draining]) : c.req.raw.signal;
  }

  /** The query, for a caller that `may` see it; 404 when it does not exist, 403 (audited) otherwise. */
  async function loadQuery(c: Context<AppEnv>, may: (q: QueryRecord, me: string) => boolean, what: string): Promise<{ q: QueryRecord; me: string }> {
    const me = (c.get('caller').agency as AgencyRecord).id;
    const id = c.req.param('id') as string;
    const q = await svc.store.getQuery(id);
    if (!q) throw new ProblemError('not-found', 'no such query', { audit: { action: 'query.refused', subject: id } });
    if (!may(q, me)) throw new ProblemError('forbidden', what, { audit: { action: 'query.refused', subject: id, detail: { requester: q.requester } } });
    return { q, me };
  }

  mount(app, postAnswer, async (c) => {
    const { q, me } = await loadQuery(c, (q, me) => q.legs.some((l) => l.partner === me), 'only an agency the query is addressed to may answer it');
    const body = parseJsonBody(c.get('body'), answerBody);
    const leg = q.legs.find((l) => l.partner === me) as QueryLegRecord;
    const now = svc.now();
    const about = { requester: q.requester, partner: me, caseRef: q.caseRef, purpose: q.purpose, kind: q.kind, values: q.values };
    const refuse = (slug: ProblemSlug, detail: string, field?: string) =>
      new ProblemError(slug, detail, { ...(field ? { field } : {}), audit: { action: 'query.answer_refused', subject: q.id, detail: about } });
    const evaluated = pack(body.evaluated, ELEMENT_BYTES);
    if (leg.status === 'refused') throw refuse('conflict', 'this query was refused by its responder');
    if (leg.status === 'answered') {
      // An identical re-send (a retry whose response was lost) is not a second answer.
      const same =
        leg.answerEpoch === body.epoch &&
        leg.evaluated !== null &&
        bytesToHex(leg.evaluated) === bytesToHex(evaluated) &&
        leg.proof !== null &&
        bytesToHex(leg.proof) === bytesToHex(body.proof);
      if (!same) throw refuse('conflict', 'this query was already answered');
      return c.json({ queryId: q.id, status: 'answered', proofValid: leg.proofValid === true } satisfies z.infer<typeof answerResponse>);
    }
    if (legExpired(leg, now) || q.blinded === null) throw refuse('conflict', 'this query expired unanswered');
    if (body.evaluated.length !== q.values) {
      throw refuse('validation', `body.evaluated: ${q.values} elements expected, one per blinded value`, 'body.evaluated');
    }
    try {
      svc.checkElements(evaluated, 'body.evaluated');
    } catch (err) {
      if (err instanceof DecodeError) throw refuse('validation', err.message, err.field);
      throw err;
    }
    const current = await svc.store.currentEpoch();
    if (body.epoch !== q.epoch && body.epoch !== current.id) {
      throw refuse('stale-epoch', `answer with the key of epoch ${q.epoch === current.id ? q.epoch : `${q.epoch} or ${current.id}`}`, 'body.epoch');
    }
    // The responder's key for this query's pair (protocol/SPEC.md §8.5): the key the requester will verify the proof with.
    const key = await svc.store.getPairEpochKey(me, body.epoch, leg.pairId);
    if (!key) throw refuse('epoch-key-required', `publish the epoch key of pair ${leg.pairId} for ${body.epoch} first`, 'body.epoch');
    let proofValid: boolean;
    try {
      proofValid = svc.verifyProof(CONCORDAT_SUITE, key.publicKey, unpack(q.blinded, ELEMENT_BYTES), body.evaluated, body.proof);
    } catch {
      // Non-canonical proof scalars: not a valid proof, relayed as such.
      proofValid = false;
    }
    // The answer and its entry commit together.
    const r = await svc.store.answerQuery(
      q.id,
      me,
      { epoch: body.epoch, evaluated, proof: body.proof, proofValid, at: now.toISOString() },
      auditEntry(svc, {
        actor: me,
        action: proofValid ? 'query.answered' : 'query.bad_proof',
        subject: q.id,
        outcome: proofValid ? 'ok' : 'bad-proof',
        detail: { ...about, epoch: body.epoch, proofValid },
      }),
    );
    if (r === 'conflict') throw refuse('conflict', 'this query was already answered');
    if (r === 'answered') svc.notifier?.notify(queryKey(q.id));
    return c.json({ queryId: q.id, status: 'answered', proofValid } satisfies z.infer<typeof answerResponse>);
  }, ID);

  mount(app, postRefusal, async (c) => {
    const { q, me } = await loadQuery(c, (q, me) => q.legs.some((l) => l.partner === me), 'only an agency the query is addressed to may refuse it');
    const body = parseJsonBody(c.get('body'), refusalBody);
    const leg = q.legs.find((l) => l.partner === me) as QueryLegRecord;
    const about = { requester: q.requester, partner: me, caseRef: q.caseRef, purpose: q.purpose, kind: q.kind, values: q.values, reason: body.reason };
    const conflict = (detail: string) => new ProblemError('conflict', detail, { audit: { action: 'query.refusal_refused', subject: q.id, detail: about } });
    if (legExpired(leg, svc.now())) throw conflict('this query expired unanswered');
    // The refusal and its entry commit together. The responder's own trail holds the same
    // refusal (protocol/SPEC.md §5.3, item 6); this entry is the coordinator's.
    const r = await svc.store.refuseQuery(
      q.id,
      me,
      body.reason,
      svc.now().toISOString(),
      auditEntry(svc, { actor: me, action: 'query.responder_refused', subject: q.id, outcome: body.reason, detail: about }),
    );
    if (r === 'conflict') throw conflict(leg.status === 'answered' ? 'this query was already answered' : 'this query was already refused for another reason');
    if (r === 'refused') svc.notifier?.notify(queryKey(q.id));
    return c.json({ queryId: q.id, status: 'refused', reason: body.reason } satisfies z.infer<typeof refusalResponse>);
  }, ID);

  mount(app, getQuery, async (c) => {
    const { q: first } = await loadQuery(c, (q, me) => q.requester === me, "only the requesting agency may read a query's answers");
    const waitMs = parseWait(c);
    // Wake when a leg pending at the start is answered (or expires), so each further poll waits for the next answer.
    const pendingAtStart = new Set(first.legs.filter((l) => legStatus(l, svc.now()) === 'pending').map((l) => l.partner));
    const q =
      pendingAtStart.size === 0
        ? first
        : await longPoll(
            svc.notifier,
            queryKey(first.id),
            waitMs,
            async () => {
              const now = svc.now();
              const cur = (await svc.store.getQuery(first.id)) as QueryRecord;
              return { done: cur.legs.some((l) => pendingAtStart.has(l.partner) && legStatus(l, now) !== 'pending'), value: cur };
            },
            pollSignal(c),
          );
    const now = svc.now();
    const legs = [];
    for (const leg of q.legs) {
      const status = legStatus(leg, now);
      const out: { [key: string]: JsonValue } = { partner: leg.partner, status, pair: leg.pairId };
      if (leg.agreementVersion !== null) out.agreement = { id: leg.agreementId, version: leg.agreementVersion };
      if (status === 'refused' && leg.refusal) out.reason = leg.refusal.reason;
      if (status === 'answered' && leg.answerEpoch !== null) {
        const key = await svc.store.getPairEpochKey(leg.partner, leg.answerEpoch, leg.pairId);
        out.epoch = leg.answerEpoch;
        if (key) out.partnerEpochKey = { publicKey: bytesToHex(key.publicKey), signature: bytesToHex(key.signature) };
        if (leg.evaluated) out.evaluated = unpack(leg.evaluated, ELEMENT_BYTES).map(bytesToHex);
        if (leg.proof) out.proof = bytesToHex(leg.proof);
        out.proofValid = leg.proofValid === true;
      }
      legs.push(out);
    }
    return c.json({ queryId: q.id, kind: q.kind, purpose: q.purpose, caseRef: q.caseRef, createdAt: q.createdAt, legs });
  }, ID);

  mount(app, postOutcome, async (c) => {
    const { q, me } = await loadQuery(c, (q, me) => q.requester === me, 'only the requesting agency may report the outcome of a query');
    const body = parseJsonBody(c.get('body'), outcomeBody);
    const now = svc.now();
    const at = now.toISOString();
    const about = { requester: me, officer: q.officer, caseRef: q.caseRef, purpose: q.purpose, kind: q.kind, values: q.values };
    const bad = (field: string, detail: string) =>
      new ProblemError('validation', `${field}: ${detail}`, { field, audit: { action: 'query.outcome_refused', subject: q.id, detail: about } });

    // Validate every leg before recording any, so a refusal records nothing.
    type Hit = (typeof body.legs)[number]['hits'][number];
    const plans: { leg: QueryLegRecord; f: string; hits: Hit[]; noHits: number; error: string | null }[] = [];
    for (let i = 0; i < body.legs.length; i++) {
      const l = body.legs[i] as (typeof body.legs)[number];
      const f = `body.legs[${i}]`;
      const leg = q.legs.find((x) => x.partner === l.partner);
      if (!leg) throw bad(`${f}.partner`, 'not a partner of this query');
      if (plans.some((p) => p.leg.partner === l.partner)) throw bad(`${f}.partner`, 'each leg once');
      const error = l.error ?? null;
      if (error === null || error === 'bad-proof') {
        if (leg.status !== 'answered') {
          throw new ProblemError('conflict', `${f}: the leg of ${l.partner} is not answered`, { field: `${f}.partner`, audit: { action: 'query.outcome_refused', subject: q.id, detail: about } });
        }
      }
      if (error !== null && l.hits.length > 0) throw bad(`${f}.hits`, 'a leg reported with an error has no hits');
      if (error === null && l.hits.length + l.noHits !== q.values) throw bad(`${f}.noHits`, `hits and noHits must add up to the ${q.values} values`);
      const seen = new Set<number>();
      for (let j = 0; j < l.hits.length; j++) {
        const h = l.hits[j] as Hit;
        if (h.index >= q.values) throw bad(`${f}.hits[${j}].index`, `must be below ${q.values}`);
        if (seen.has(h.index)) throw bad(`${f}.hits[${j}].index`, 'each value once');
        seen.add(h.index);
      }
      plans.push({ leg, f, hits: l.hits, noHits: l.noHits, error });
    }

    // Every hit carries evidence (protocol/SPEC.md §8.11): the proof is checked against the evaluated
    // element this coordinator relayed, and the unblinded element must be a live element of the
    // responder's side. A hit that fails refuses the whole report: nothing is recorded.
    const refuseHit = (partner: string, field: string, reason: string, detail: string) =>
      new ProblemError('validation', `${field}: ${detail}`, {
        field,
        audit: { action: 'query.hit_refused', subject: q.id, outcome: 'refused', detail: { ...about, partner, reason } },
      });
    const { handleKey } = await svc.secrets();
    const located: { plan: (typeof plans)[number]; pair: PairRecord; epoch: string; hits: QueryHitInput[] }[] = [];
    for (const plan of plans) {
      const { leg, f } = plan;
      const pair = (await svc.store.getPair(leg.pairId)) as PairRecord;
      const epoch = leg.answerEpoch ?? q.epoch;
      if (plan.hits.length === 0) {
        located.push({ plan, pair, epoch, hits: [] });
        continue;
      }
      if (leg.proofValid !== true) throw refuseHit(leg.partner, `${f}.hits`, 'answer-proof', 'the answer of this leg did not carry a valid proof: it has no hits');
      if (leg.evaluated === null) throw refuseHit(leg.partner, `${f}.hits`, 'answer-purged', 'the answer of this leg is no longer held, so its hits cannot be checked');
      const evaluated = unpack(leg.evaluated, ELEMENT_BYTES);
      plan.hits.forEach((h, j) => {
        const check = checkHitEvidence(CONCORDAT_SUITE, evaluated[h.index] as Uint8Array, h, svc.verifyProof);
        if (!check.ok) {
          const what = check.reason === 'proof' ? 'the proof does not verify against the answer relayed for this value' : `not a valid encoding (${check.reason})`;
          throw refuseHit(leg.partner, `${f}.hits[${j}].${check.field}`, check.reason === 'proof' ? 'proof' : `${check.field}-${check.reason}`, what);
        }
      });
      const ps = svc.store.pair(pair.id);
      const where = await ps.locateElements(epoch, sideOf(pair, leg.partner) as Side, plan.hits.map((h) => h.element));
      const hits: QueryHitInput[] = [];
      plan.hits.forEach((h, j) => {
        const w = where[j];
        const field = `${f}.hits[${j}].element`;
        // A registered canary is reported like an element the side does not hold: the requester must not learn which positions are canaries.
        if (!w || w.state === 'canary') throw refuseHit(leg.partner, field, 'element', `not an element of ${leg.partner}'s side in ${epoch}`);
        if (w.state === 'removed') throw refuseHit(leg.partner, field, 'removed', `${leg.partner} withdrew this element from its side`);
        if (!w.token) throw refuseHit(leg.partner, field, 'not-tokenised', `the requester's tokens for this element of ${leg.partner}'s side have not arrived: upload them first`);
        // A nightly match at the position lends its (possibly continued) handle; otherwise the nightly construction over the side's token.
        hits.push({ index: h.index, handle: w.matchHandle ?? matchHandle(handleKey, pair.id, w.token), pairId: pair.id, epoch, position: w.position });
      });
      located.push({ plan, pair, epoch, hits });
    }

    const replies: { partner: string; hits: { index: number; handle: string }[] }[] = [];
    for (const { plan, epoch, hits } of located) {
      const { leg } = plan;
      // The outcome, its hits and its entry commit together.
      const r = await svc.store.recordOutcome(
        q.id,
        leg.partner,
        { hits, noHits: plan.noHits, error: plan.error, at },
        auditEntry(svc, {
          actor: me,
          action: 'query.outcome',
          subject: q.id,
          outcome: plan.error ?? 'ok',
          detail: {
            ...about,
            partner: leg.partner,
            epoch,
            hits: hits.length,
            noHits: plan.noHits,
            ...(plan.error ? { error: plan.error } : {}),
          },
        }),
      );
      if (r === 'conflict') {
        throw new ProblemError('conflict', `the outcome of the leg of ${leg.partner} was already reported differently`, {
          audit: { action: 'query.outcome_refused', subject: q.id, detail: { ...about, partner: leg.partner } },
        });
      }
      replies.push({ partner: leg.partner, hits: hits.map((h) => ({ index: h.index, handle: h.handle })) });
    }
    return c.json({ legs: replies } satisfies z.infer<typeof outcomeResponse>);
  }, ID);

  return app;
}
