// Store contract: targeted queries (src/API.md, "Targeted queries") — the
// quota charged atomically across agreements, the inbox, answers and
// outcomes written once, and the purge of query values and counters.
import { describe, expect, it } from 'vitest';
import type { AnswerInput, OutcomeInput } from '../../src/store/types.js';
import { AT, DAY, eachStore, newQuery, quotaOf } from './store-fixture.js';

const fx = eachStore({ registered: true });

const answer = (over: Partial<AnswerInput> = {}): AnswerInput => ({ epoch: 'e1', evaluated: new Uint8Array(64).fill(1), proof: new Uint8Array(64).fill(2), proofValid: true, at: AT, ...over });
const outcome = (over: Partial<OutcomeInput> = {}): OutcomeInput => ({
  hits: [
    { index: 1, handle: 'h-b', pairId: 'es-pt~ES~PT', epoch: 'e1', position: 7 },
    { index: 0, handle: 'h-a', pairId: 'es-pt~ES~PT', epoch: 'e1', position: null },
  ],
  noHits: 0,
  error: null,
  at: AT,
  ...over,
});

describe('creating queries against the daily quota', () => {
  it('creates a query with its pending legs and counts it against every agreement', async () => {
    const q = newQuery(['PT', 'FR']);
    expect(await fx.store.createQuery(q, quotaOf(['PT', 'FR'], 5), DAY)).toEqual({ ok: true });
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(1);
    expect(await fx.store.queriesUsed('ES', 'es-fr', DAY)).toBe(1);
    expect(await fx.store.queriesUsed('ES', 'es-pt', '2026-03-11')).toBe(0);
    const stored = await fx.store.getQuery(q.id);
    expect(stored).toMatchObject({ id: q.id, requester: 'ES', kind: 'email', purpose: 'terrorism', caseRef: 'OP-1', officer: 'es-officer', values: 2, epoch: 'e1', blinded: q.blinded });
    expect(stored?.legs.map((l) => [l.partner, l.agreementId, l.pairId, l.status, l.outcome])).toEqual([
      ['FR', 'es-fr', 'es-fr~ES~FR', 'pending', null],
      ['PT', 'es-pt', 'es-pt~ES~PT', 'pending', null],
    ]);
    expect(await fx.store.getQuery('nope')).toBeUndefined();
  });

  it('refuses, creating nothing and charging nothing, when any agreement is used up', async () => {
    expect(await fx.store.createQuery(newQuery(['PT']), quotaOf(['PT'], 1), DAY)).toEqual({ ok: true });
    const q = newQuery(['FR', 'PT']);
    expect(await fx.store.createQuery(q, [...quotaOf(['FR'], 5), ...quotaOf(['PT'], 1)], DAY)).toEqual({ ok: false, reason: 'quota', agreementId: 'es-pt', used: 1 });
    expect(await fx.store.getQuery(q.id)).toBeUndefined();
    expect(await fx.store.queriesUsed('ES', 'es-fr', DAY)).toBe(0);
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(1);
    expect(await fx.t.controlRows("SELECT agreement_id FROM query_quota WHERE agreement_id = 'es-fr'")).toEqual([]);
    expect(await fx.store.createQuery(newQuery(['PT']), quotaOf(['PT'], 0), '2026-03-11')).toEqual({ ok: false, reason: 'quota', agreementId: 'es-pt', used: 0 });
  });

  it('lets exactly the quota through when queries race', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => fx.store.createQuery(newQuery(['PT']), quotaOf(['PT'], 3), DAY)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, reason: 'quota', agreementId: 'es-pt', used: 3 })));
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(3);
  });

  it('with audit entries, racing queries let exactly the quota through and each created query has its one entry', async () => {
    const qs = Array.from({ length: 8 }, () => newQuery(['PT']));
    const entry = (subject: string) => ({ at: AT, actor: 'ES', action: 'query.created', subject, outcome: 'ok', detail: {} });
    const results = await Promise.all(qs.map((q) => fx.store.createQuery(q, quotaOf(['PT'], 3), DAY, entry(q.id))));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, reason: 'quota', agreementId: 'es-pt', used: 3 })));
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(3);
    const created = qs.filter((_, i) => results[i]?.ok).map((q) => q.id);
    const audited = (await fx.store.readAudit(0, 100)).filter((e) => e.action === 'query.created').map((e) => e.subject);
    expect(audited.sort()).toEqual(created.sort());
  });

  it('with audit entries, of racing answers and refusals exactly one lands, with exactly one entry', async () => {
    const q = newQuery(['PT']);
    expect(await fx.store.createQuery(q, quotaOf(['PT'], 5), DAY)).toEqual({ ok: true });
    const entry = (action: string) => ({ at: AT, actor: 'PT', action, subject: q.id, outcome: 'ok', detail: {} });
    const results = await Promise.all([
      fx.store.answerQuery(q.id, 'PT', answer(), entry('query.answered')),
      fx.store.answerQuery(q.id, 'PT', answer(), entry('query.answered')),
      fx.store.refuseQuery(q.id, 'PT', 'no-legal-basis', AT, entry('query.responder_refused')),
      fx.store.answerQuery(q.id, 'PT', answer({ proof: new Uint8Array(64).fill(9) }), entry('query.answered')),
    ]);
    const landed = results.filter((r) => r === 'answered' || r === 'refused');
    expect(landed).toHaveLength(1);
    const audited = (await fx.store.readAudit(0, 100)).filter((e) => e.subject === q.id).map((e) => e.action);
    expect(audited).toEqual([landed[0] === 'answered' ? 'query.answered' : 'query.responder_refused']);
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome(), entry('query.outcome'))).toBe('recorded');
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome(), entry('query.outcome'))).toBe('same');
    expect((await fx.store.readAudit(0, 100)).filter((e) => e.action === 'query.outcome')).toHaveLength(1);
  });

  it('drops the counters of days before a given day', async () => {
    await fx.store.createQuery(newQuery(['PT']), quotaOf(['PT'], 5), '2026-03-09');
    await fx.store.createQuery(newQuery(['PT', 'FR']), quotaOf(['PT', 'FR'], 5), DAY);
    expect(await fx.store.purgeQuotaCounters(DAY)).toBe(1);
    expect(await fx.store.queriesUsed('ES', 'es-pt', '2026-03-09')).toBe(0);
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(1);
    expect(await fx.store.purgeQuotaCounters(DAY)).toBe(0);
  });
});

describe('inbox, answers and outcomes', () => {
  it('lists the pending legs addressed to a partner after a time, oldest first', async () => {
    const early = newQuery(['PT'], { createdAt: '2026-03-10T10:00:00.000Z' });
    const late = newQuery(['PT', 'FR'], { createdAt: '2026-03-10T11:00:00.000Z' });
    await fx.store.createQuery(late, quotaOf(['PT', 'FR'], 5), DAY);
    await fx.store.createQuery(early, quotaOf(['PT'], 5), DAY);
    expect((await fx.store.inbox('PT', '')).map((e) => e.queryId)).toEqual([early.id, late.id]);
    expect(await fx.store.inbox('PT', '2026-03-10T10:00:00.000Z')).toEqual([
      {
        queryId: late.id,
        from: 'ES',
        pairId: 'es-pt~ES~PT',
        agreementId: 'es-pt',
        agreementVersion: 1,
        signature: late.legs[0]?.signature,
        kind: 'email',
        purpose: 'terrorism',
        caseRef: 'OP-1',
        epoch: 'e1',
        blinded: late.blinded,
        values: 2,
        createdAt: late.statedAt,
      },
    ]);
    await fx.store.answerQuery(early.id, 'PT', answer());
    expect((await fx.store.inbox('PT', '')).map((e) => e.queryId)).toEqual([late.id]);
    expect((await fx.store.inbox('FR', '')).map((e) => e.queryId)).toEqual([late.id]);
    expect(await fx.store.inbox('ES', '')).toEqual([]);
  });

  it('keeps each leg’s signed statement fields and refuses an id that is taken', async () => {
    const q = newQuery(['PT', 'FR']);
    expect(await fx.store.createQuery(q, quotaOf(['PT', 'FR'], 5), DAY)).toEqual({ ok: true });
    const stored = await fx.store.getQuery(q.id);
    expect(stored?.statedAt).toBe(q.statedAt);
    expect(stored?.legs.map((l) => [l.partner, l.agreementVersion, l.epoch, l.signature, l.status, l.refusal])).toEqual([
      ['FR', 1, 'e1', q.legs[1]?.signature, 'pending', null],
      ['PT', 1, 'e1', q.legs[0]?.signature, 'pending', null],
    ]);
    // The requester chooses ids: a second query under one id is refused and charged nothing.
    expect(await fx.store.createQuery({ ...newQuery(['PT']), id: q.id }, quotaOf(['PT'], 5), DAY)).toEqual({ ok: false, reason: 'taken' });
    expect(await fx.store.queriesUsed('ES', 'es-pt', DAY)).toBe(1);
  });

  it('takes one refusal per pending leg: refused, same, conflict; a refused leg takes no answer', async () => {
    const q = newQuery(['PT', 'FR']);
    await fx.store.createQuery(q, quotaOf(['PT', 'FR'], 5), DAY);
    expect(await fx.store.refuseQuery(q.id, 'PT', 'signature', AT)).toBe('refused');
    expect(await fx.store.refuseQuery(q.id, 'PT', 'signature', '2026-03-10T13:00:00.000Z')).toBe('same');
    expect(await fx.store.refuseQuery(q.id, 'PT', 'quota', AT)).toBe('conflict');
    expect(await fx.store.answerQuery(q.id, 'PT', answer())).toBe('conflict');
    expect(await fx.store.answerQuery(q.id, 'FR', answer())).toBe('answered');
    expect(await fx.store.refuseQuery(q.id, 'FR', 'signature', AT)).toBe('conflict');
    await expect(fx.store.refuseQuery(q.id, 'IT', 'signature', AT)).rejects.toThrow('coordinator: no such query leg');
    const legs = (await fx.store.getQuery(q.id))?.legs ?? [];
    expect(legs.find((l) => l.partner === 'PT')).toMatchObject({ status: 'refused', refusal: { reason: 'signature', at: AT } });
    expect((await fx.store.inbox('PT', '')).map((e) => e.queryId)).toEqual([]);
  });

  it('takes one answer per leg: answered, same for a re-send, conflict for another', async () => {
    const q = newQuery(['PT']);
    await fx.store.createQuery(q, quotaOf(['PT'], 5), DAY);
    expect(await fx.store.answerQuery(q.id, 'PT', answer())).toBe('answered');
    expect(await fx.store.answerQuery(q.id, 'PT', answer({ at: '2026-03-10T13:00:00.000Z', proofValid: false }))).toBe('same');
    expect(await fx.store.answerQuery(q.id, 'PT', answer({ proof: new Uint8Array(64).fill(3) }))).toBe('conflict');
    expect(await fx.store.answerQuery(q.id, 'PT', answer({ epoch: 'e2' }))).toBe('conflict');
    await expect(fx.store.answerQuery(q.id, 'FR', answer())).rejects.toThrow('coordinator: no such query leg');
    const [leg] = (await fx.store.getQuery(q.id))?.legs ?? [];
    expect(leg).toMatchObject({ status: 'answered', answerEpoch: 'e1', evaluated: answer().evaluated, proof: answer().proof, proofValid: true, answeredAt: AT });
    const racing = newQuery(['PT']);
    await fx.store.createQuery(racing, quotaOf(['PT'], 5), DAY);
    const answers = await Promise.all([1, 2, 3, 4].map((n) => fx.store.answerQuery(racing.id, 'PT', answer({ proof: new Uint8Array(64).fill(n) }))));
    expect(answers.sort()).toEqual(['answered', 'conflict', 'conflict', 'conflict']);
  });

  it('records one outcome per leg with its hits: recorded, same for a re-send in any order, conflict for another', async () => {
    const q = newQuery(['PT']);
    await fx.store.createQuery(q, quotaOf(['PT'], 5), DAY);
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome())).toBe('recorded');
    const given = outcome();
    expect(await fx.store.recordOutcome(q.id, 'PT', { ...given, hits: [...given.hits].reverse(), at: '2026-03-10T14:00:00.000Z' })).toBe('same');
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome({ noHits: 1 }))).toBe('conflict');
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome({ hits: [] }))).toBe('conflict');
    expect(await fx.store.recordOutcome(q.id, 'PT', outcome({ error: 'proof' }))).toBe('conflict');
    await expect(fx.store.recordOutcome(q.id, 'FR', outcome())).rejects.toThrow('coordinator: no such query leg');
    expect((await fx.store.getQuery(q.id))?.legs[0]?.outcome).toEqual({ at: AT, hits: 2, noHits: 0, error: null });
    expect((await fx.store.listQueryHits('ES')).map((h) => [h.index, h.handle, h.position]).sort()).toEqual([
      [0, 'h-a', null],
      [1, 'h-b', 7],
    ]);
  });

  it('keeps the first of racing outcomes and only its hits', async () => {
    const q = newQuery(['PT']);
    await fx.store.createQuery(q, quotaOf(['PT'], 5), DAY);
    const other = outcome({ hits: [{ index: 0, handle: 'h-z', pairId: 'es-pt~ES~PT', epoch: 'e1', position: 1 }], noHits: 1 });
    const results = await Promise.all([fx.store.recordOutcome(q.id, 'PT', outcome()), fx.store.recordOutcome(q.id, 'PT', other)]);
    const won = results[0] === 'recorded' ? ['h-a', 'h-b'] : ['h-z'];
    expect([...results].sort()).toEqual(['conflict', 'recorded']);
    expect((await fx.store.listQueryHits('PT')).map((h) => h.handle).sort()).toEqual(won);
  });
});

describe('purging query values', () => {
  it('drops blinded and evaluated elements and proofs of queries created before a time, keeping the records', async () => {
    const old = newQuery(['PT'], { createdAt: '2026-03-01T00:00:00.000Z' });
    const recent = newQuery(['PT'], { createdAt: '2026-03-09T00:00:00.000Z' });
    await fx.store.createQuery(old, quotaOf(['PT'], 5), DAY);
    await fx.store.createQuery(recent, quotaOf(['PT'], 5), DAY);
    await fx.store.answerQuery(old.id, 'PT', answer());
    await fx.store.answerQuery(recent.id, 'PT', answer());
    expect(await fx.store.purgeQueryValues('2026-03-05T00:00:00.000Z')).toBe(1);
    expect(await fx.store.getQuery(old.id)).toMatchObject({ blinded: null, legs: [{ status: 'answered', evaluated: null, proof: null, proofValid: true }] });
    expect(await fx.store.getQuery(recent.id)).toMatchObject({ blinded: recent.blinded, legs: [{ evaluated: answer().evaluated, proof: answer().proof }] });
    expect(await fx.store.purgeQueryValues('2026-03-05T00:00:00.000Z')).toBe(0);
  });
});
