// Targeted queries against a hostile coordinator: the responder's own
// `concordat serve` (a child process, unmodified) must refuse every query
// that is not exactly what the requester signed under the agreement both
// accepted (protocol/SPEC.md §5.3, Coordinator (active) items 1, 4 and 6;
// Requester (active); §8.9), write the refusal to its LOCAL audit trail, and
// evaluate nothing: for a refused query no answer ever reaches the
// coordinator. The requester, in turn, must never read an answer proven
// against a key its partner did not sign as a "no hit" (§5.3 item 3). And a
// requester holding the partner's tokens and elements from the nightly flow
// cannot have a hit recorded on a record it did not ask about (§8.11).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE, hitEvidenceSuite } from '../../protocol/constants.js';
import { generateProof } from '../../protocol/dleq.js';
import { decodeScalar, encodePoint, encodeScalar, Point, randomScalar } from '../../protocol/group.js';
import { randomBytes } from '../../protocol/rng.js';
import type { CoordinatorError } from '../../clients/sdk/errors.js';
import { attackerEpochKey, attackerEvaluation, attackerSigningKey, freshId, guessedPoints, nowStamp, signedEntry, type InboxEntry } from './forge.js';
import { bodyJson, json, rewriteJson, type Exchange } from './hostile.js';
import { assertNothingPlantedReachedTheCoordinator } from './privacy.js';
import { built, cli, passport, range, waitUntil, World, type ServeProcess } from './world.js';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const both = range(900_000, 8);
const MAX_VALUES = 5;

let w: World;
let serve: ServeProcess;
/** A real query of ES to PT, answered by PT: the template every forgery starts from. */
let real: InboxEntry;

const answersTo = (id: string) => (x: Exchange) => x.method === 'POST' && x.path === `/v1/queries/${id}/answer`;
const refusalOf = (id: string) => (x: Exchange) => x.method === 'POST' && x.path === `/v1/queries/${id}/refusal`;

function ask(values: string[], extra: string[] = []) {
  return cli([
    'query',
    '--dir',
    w.dir(ES),
    '--partner',
    PT,
    '--kind',
    'passport',
    ...values.flatMap((v) => ['--value', v]),
    '--case',
    'OP-ADV/1',
    '--purpose',
    'terrorism',
    '--officer',
    'officer-7',
    '--json',
    '--timeout',
    '15',
    ...extra,
  ]);
}

/**
 * Waits for the responder's local refusal of `id` and checks what an
 * authority reviewing the trail sees: the query, the requester, the reason,
 * and no element.
 */
async function refusedLocally(id: string, reason: string, forged: readonly string[] = [], nth = 1) {
  const e = await waitUntil(async () => {
    // Newest first: once there are `nth` refusals of this id, the newest is the one just made.
    const all = (await w.audit(PT)).filter((a) => a.action === 'query.refused' && a.subject === id);
    return all.length >= nth ? all[0] : undefined;
  }, `refusal ${nth} of ${id} in ${PT}'s local audit`);
  expect(e).toMatchObject({ action: 'query.refused', subject: id, outcome: 'refused' });
  expect(e.detail).toMatchObject({ reason });
  const text = JSON.stringify(e);
  for (const f of forged) expect(text).not.toContain(f);
  return e;
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  // Two rotations first: the world lives in e3, so e1 is an epoch the responder no longer answers in.
  await w.coord.rotate();
  await w.coord.rotate();
  await w.agency(ES, 'ESP', [...range(100_000, 60), ...both]);
  await w.agency(PT, 'PRT', [...range(200_000, 60), ...both]);
  await w.agreement({ id: 'es-pt', parties: [ES, PT], queryQuota: { perDay: 100, maxValues: MAX_VALUES } });
  await w.acceptAll('es-pt', [ES, PT]);
  await w.syncAll([ES, PT]);
  serve = w.serve(PT);
  await serve.waitFor(/answering targeted queries/);

  const r = await ask([passport(both[0] as number)]);
  expect(r.code, r.stderr).toBe(0);
  const id = (JSON.parse(r.stdout) as { query_id: string }).query_id;
  real = w.coord.relayed.get(id)?.entry as InboxEntry;
  expect(real, 'the responder received the real query through the hostile layer').toBeDefined();
  expect(w.coord.since(0, answersTo(id)).length).toBe(1);
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe('a hostile coordinator against the responder (concordat serve)', () => {
  it('refuses a forged inbox entry: points of the attacker’s choosing, signed by no requester', async () => {
    const guesses = [passport(900_001), passport(123_456), passport(200_001)];
    const points = guessedPoints('passport', guesses).map(bytesToHex);
    const attacker = attackerSigningKey();
    const forged = signedEntry({ ...real, queryId: freshId(), createdAt: nowStamp(), blinded: points }, PT, attacker.secretKey);
    const mark = w.coord.seen.length;
    w.coord.injectInbox(PT, forged);
    await refusedLocally(forged.queryId, 'signature', points);
    // Harmless: nothing was evaluated — no answer for it ever reached the coordinator; the refusal did.
    await new Promise((r) => setTimeout(r, 300));
    expect(w.coord.since(mark, answersTo(forged.queryId))).toEqual([]);
    const refusals = w.coord.since(mark, refusalOf(forged.queryId));
    expect(refusals.map((x) => bodyJson(x).reason)).toEqual(['signature']);

    // The same forgery with no signature at all is no query of the contract: refused as malformed.
    const { signature: _none, ...unsigned } = { ...forged, queryId: freshId() };
    const mark2 = w.coord.seen.length;
    w.coord.injectInbox(PT, unsigned);
    await refusedLocally(unsigned.queryId, 'malformed', points);
    expect(w.coord.since(mark2, answersTo(unsigned.queryId))).toEqual([]);
  });

  it('refuses a real query whose values the coordinator altered in flight', async () => {
    const swapped = bytesToHex(guessedPoints('passport', [passport(200_002)])[0] as Uint8Array);
    let altered = '';
    const off = w.coord.use({
      label: 'alter the values of the next query relayed to the responder',
      when: (x) => x.method === 'GET' && x.path === '/v1/queries/inbox' && x.agency === PT,
      // Only the first query that comes by (a long poll may also come back empty first).
      response: (res) =>
        rewriteJson(res, (b: { queries: InboxEntry[] }) => {
          const q = b.queries.find((e) => e.from === ES);
          if (q && altered === '') {
            altered = q.queryId;
            q.blinded = [swapped, ...q.blinded.slice(1)];
          }
          return b;
        }),
    });
    try {
      const mark = w.coord.seen.length;
      const r = await ask([passport(both[1] as number)], ['--timeout', '1']);
      expect(altered).not.toBe('');
      // The statement covers the SHA-256 of the values: the requester's signature no longer verifies.
      await refusedLocally(altered, 'signature', [swapped]).catch((e: unknown) => {
        throw new Error(`${String(e)}\nserve:\n${serve.out}\n${serve.err}\nquery: ${r.stdout}\n${r.stderr}`);
      });
      expect(w.coord.since(mark, answersTo(altered))).toEqual([]);
      // The requester sees the leg refused — never a result, so never a "no hit".
      const j = JSON.parse(r.stdout) as { results: unknown[]; query_id: string };
      expect(j.query_id).toBe(altered);
      expect(j.results).toEqual([]);
    } finally {
      off();
    }
  });

  it('refuses a query for an epoch it no longer answers in, and one for a future epoch', async () => {
    // Signed by the requester itself (the coordinator + requester collusion of §5.2): only the epoch is wrong.
    const es = w.get(ES).signingKey;
    const old = signedEntry({ ...real, queryId: freshId(), createdAt: nowStamp(), epoch: 'e1' }, PT, es);
    const future = signedEntry({ ...real, queryId: freshId(), createdAt: nowStamp(), epoch: 'e9' }, PT, es);
    const mark = w.coord.seen.length;
    w.coord.injectInbox(PT, old, future);
    await refusedLocally(old.queryId, 'epoch');
    await refusedLocally(future.queryId, 'epoch');
    expect(w.coord.since(mark, (x) => answersTo(old.queryId)(x) || answersTo(future.queryId)(x))).toEqual([]);
  });

  it('refuses a replayed query id (the answered query relayed again, verbatim)', async () => {
    const mark = w.coord.seen.length;
    w.coord.injectInbox(PT, real);
    await refusedLocally(real.queryId, 'replay');
    expect(w.coord.since(mark, answersTo(real.queryId))).toEqual([]);
  });

  it('refuses a query with more values than the agreement allows, even signed by the requester', async () => {
    const points = guessedPoints(
      'passport',
      range(200_010, MAX_VALUES + 1).map((p) => passport(p)),
    ).map(bytesToHex);
    const over = signedEntry({ ...real, queryId: freshId(), createdAt: nowStamp(), blinded: points }, PT, w.get(ES).signingKey);
    const mark = w.coord.seen.length;
    w.coord.injectInbox(PT, over);
    await refusedLocally(over.queryId, 'values', points);
    expect(w.coord.since(mark, answersTo(over.queryId))).toEqual([]);
  });
});

describe('a dishonest requester (protocol/SPEC.md §8.11): holding the partner’s tokens and elements is no hit', () => {
  it('refuses a hit on a record the requester never asked about, by token or with evidence of a made-up scalar; nothing reaches the partner', async () => {
    // ES asks an honest question (a value PT does not hold) and keeps its report back: the swallowed outcome
    // leaves the leg answered and unreported at the coordinator, for ES to report as it likes.
    const swallow = w.coord.use({
      label: 'swallow the honest outcome',
      when: (x) => x.method === 'POST' && /^\/v1\/queries\/[0-9a-f-]{36}\/outcome$/.test(x.path) && x.agency === ES,
      answer: (x) => json({ legs: (bodyJson(x).legs as Array<{ partner: string }>).map((l) => ({ partner: l.partner, hits: [] })) }),
    });
    let id: string;
    try {
      const r = await ask([passport(555_557)]);
      expect(r.code, r.stderr).toBe(0);
      id = (JSON.parse(r.stdout) as { query_id: string }).query_id;
    } finally {
      swallow();
    }
    const es = w.coord.client(ES, w.get(ES).signingKey, 0);
    const leg = (await es.getQuery(id)).legs[0];
    expect(leg).toMatchObject({ partner: PT, status: 'answered', proofValid: true });
    // What ES holds of PT's side from the nightly flow: the element at a position, and its own token for it.
    const position = 7;
    const element = (await es.getPartnerChunk(real.pair, 0)).elements.slice(position * 32, (position + 1) * 32);
    const token = await w.withStore(ES, (s) => bytesToHex(s.sqlite.prepare('SELECT token FROM partner_tokens WHERE pair = ? AND position = ?').pluck().get(real.pair, position) as Uint8Array));
    const post = (hit: unknown) => es.postOutcome(id, [{ partner: PT, hits: [hit as never], noHits: 0 }]).then(
      () => undefined,
      (e: unknown) => e as CoordinatorError,
    );

    // The report as it was: a partner token at a position ES never asked about.
    const byToken = await post({ index: 0, token });
    expect(byToken).toMatchObject({ status: 422, slug: 'validation' });
    // Evidence over the downloaded element with a scalar ES made up: E ≠ r·U, the proof does not verify.
    const made = encodeScalar(randomScalar(randomBytes));
    const evaluated = hexToBytes((leg as { evaluated: string[] }).evaluated[0] as string);
    const forged = {
      index: 0,
      element: bytesToHex(element),
      blindPublic: bytesToHex(encodePoint(Point.BASE.multiply(decodeScalar('r', made)))),
      proof: bytesToHex(generateProof(hitEvidenceSuite(CONCORDAT_SUITE), { sk: made, blinded: [element], evaluated: [evaluated] }, randomBytes)),
    };
    const byEvidence = await post(forged);
    expect(byEvidence).toMatchObject({ status: 422, slug: 'validation', field: 'body.legs[0].hits[0].proof' });

    // Refused and audited; no hit recorded; PT has nothing to confirm.
    const audit = await w.coord.store.readAudit(0, 1_000_000);
    expect(audit.filter((e) => e.action === 'query.hit_refused' && e.subject === id).map((e) => [e.actor, e.detail.partner, e.detail.reason])).toEqual([[ES, PT, 'proof']]);
    expect((await w.coord.store.getQuery(id))?.legs[0]?.outcome).toBeNull();
    expect(w.coord.db.prepare('SELECT count(*) FROM query_hits WHERE query_id = ?').pluck().get(id)).toBe(0);
    const pt = w.coord.client(PT, w.get(PT).signingKey, 0);
    expect((await pt.hits()).filter((h) => h.queryId === id)).toEqual([]);
    for (const e of audit.filter((x) => x.subject === id)) expect(JSON.stringify(e)).not.toContain(forged.element);
  });
});

describe('a hostile coordinator against the requester (concordat query)', () => {
  it('reports an answer proven against a substituted partner key as an ERROR, never as a no-hit', async () => {
    // The coordinator withholds the query from the responder and answers in its place, with a key of its
    // own and a DLEQ proof that verifies against that key; the key's statement carries no partner signature.
    const withhold = w.coord.use({
      label: 'withhold every query from the responder',
      when: (x) => x.method === 'GET' && x.path === '/v1/queries/inbox' && x.agency === PT,
      response: (res) => rewriteJson(res, (b: { queries: unknown[] }) => ({ ...b, queries: [] })),
    });
    const fake = w.coord.use({
      label: 'answer the requester with a key of the attacker, at once',
      when: (x) => x.method === 'GET' && /^\/v1\/queries\/[0-9a-f-]{36}$/.test(x.path) && x.agency === ES,
      answer: (x) => {
        const post = w.coord.seen.find((s) => s.method === 'POST' && s.path === '/v1/queries' && x.path.endsWith(bodyJson(s).queryId));
        if (!post) return json({ type: 'urn:concordat:problem:not-found', title: 'Not found', status: 404, detail: 'no such query' }, 404);
        const q = bodyJson(post) as { queryId: string; kind: string; purpose: string; caseRef: string; createdAt: string; blinded: string[]; legs: Array<{ partner: string; pair: string; agreement: { id: string; version: number }; epoch: string }> };
        const forged = attackerEvaluation(q.blinded);
        return json({
          queryId: q.queryId,
          kind: q.kind,
          purpose: q.purpose,
          caseRef: q.caseRef,
          createdAt: q.createdAt,
          legs: q.legs.map((l) => ({
            partner: l.partner,
            status: 'answered',
            pair: l.pair,
            agreement: l.agreement,
            epoch: l.epoch,
            partnerEpochKey: attackerEpochKey({ agency: l.partner, epoch: l.epoch, pair: l.pair, agreement: l.agreement }, forged.publicKey),
            evaluated: forged.evaluated,
            proof: forged.proof,
            proofValid: true,
          })),
        });
      },
    });
    // …and takes the requester's report of the leg without a word, as if it had relayed a real answer.
    const accept = w.coord.use({
      label: 'take the outcome',
      when: (x) => x.method === 'POST' && /^\/v1\/queries\/[0-9a-f-]{36}\/outcome$/.test(x.path) && x.agency === ES,
      answer: (x) => json({ legs: (bodyJson(x).legs as Array<{ partner: string }>).map((l) => ({ partner: l.partner, hits: [] })) }),
    });
    try {
      const mark = w.coord.seen.length;
      const r = await ask([passport(555_555)], ['--timeout', '2']);
      expect(r.stdout, r.stderr).not.toBe('');
      const j = JSON.parse(r.stdout) as { results: unknown[]; errors?: Array<{ partner: string; error: string }>; query_id: string };
      expect(j.results).toEqual([]);
      expect(j.errors?.map((e) => e.partner)).toEqual([PT]);
      expect(r.code).not.toBe(0);
      // Whatever the requester reported, it was no "no hit".
      for (const o of w.coord.since(mark, (x) => x.method === 'POST' && x.path === `/v1/queries/${j.query_id}/outcome`)) {
        for (const leg of bodyJson(o).legs as Array<{ noHits: number; hits: unknown[] }>) expect({ noHits: leg.noHits, hits: leg.hits }).toEqual({ noHits: 0, hits: [] });
      }
      expect(j.errors?.[0]?.error).not.toMatch(/no.?hit/i);
      // In the requester's own trail: the key refused, for this query, and the leg's result an error.
      const audit = await w.audit(ES);
      const refused = audit.find((e) => e.action === 'epoch_key.refused' && e.detail.query === j.query_id);
      expect(refused).toMatchObject({ outcome: 'refused', subject: real.pair, detail: { reason: 'signature', partner: PT } });
      expect(audit.find((e) => e.action === 'query.result' && e.subject === j.query_id)).toMatchObject({ outcome: 'failed' });
    } finally {
      accept();
      fake();
      withhold();
    }
  });

  it('privacy: after every attack above, no planted identifier reached the coordinator’s database, log or wire', async () => {
    await assertNothingPlantedReachedTheCoordinator(w);
  });
});

