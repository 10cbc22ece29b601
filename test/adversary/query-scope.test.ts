// A requester that uses a targeted query to reach past its agreement
// (protocol/SPEC.md §5.3 "Requester (active)", §6, §8.5): the requester is
// the attacker here, running its own code with its own signing key, against
// the responder's unmodified `concordat serve`.
//
// ES and PT hold two agreements: `es-pt` (reveal, passports) and
// `es-pt-count` (count, e-mail addresses). In count mode ES may learn only how
// many of its e-mail addresses PT holds. The attack: ES sends the elements it
// uploaded to the count pair — k_ES,count·H(x) for its own e-mail addresses —
// as the "blinded values" of a signed reveal-pair query. Had PT one key for
// every pair, the answer unblinded with k_ES,count would be PT's count-pair
// element of x, and comparing its token with the count-pair tokens ES holds
// would say exactly which addresses matched. With a key per pair the
// responder evaluates under its reveal-pair key only, and the answer says
// nothing about the count pair; nor is an answer of one epoch of any use
// against the next epoch's sets.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../../protocol/constants.js';
import { decodePoint, decodeScalar as decodeScalarStrict, encodePoint, Fn, type Point } from '../../protocol/group.js';
import { token } from '../../protocol/token.js';
import { queryValuesDigest, signQuery } from '../../protocol/signed-query.js';
import { agencyClient } from '../../clients/sdk/agency-client.js';
import { assertNothingPlantedReachedTheCoordinator } from './privacy.js';
import { built, email, passport, range, waitUntil, World, type ServeProcess } from './world.js';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const REVEAL = 'es-pt';
const COUNT = 'es-pt-count';
const both = range(910_000, 6);

const decodeScalar = (b: Uint8Array): bigint => decodeScalarStrict('sk', b);
const scalarInvert = (s: bigint): bigint => Fn.inv(s);
const pointMul = (p: Point, s: bigint): Point => p.multiply(s);
const deriveToken = (suite: typeof CONCORDAT_SUITE, e: Uint8Array): Uint8Array => token(suite, e);

let w: World;
let serve: ServeProcess;
let epoch: string;
let revealPair: string;
let countPair: string;

interface Side {
  position: number;
  kind: string | null;
  canonical: string | null;
  element: Uint8Array;
}

/** ES's own side of a pair as its local store holds it: every position with its uploaded element. */
async function ownSide(pair: string, ep: string): Promise<Side[]> {
  return w.withStore(ES, (s) => {
    const chunks = s.sqlite.prepare('SELECT first_position AS first, count, data FROM chunks WHERE pair = ? AND epoch = ? ORDER BY idx').all(pair, ep) as {
      first: number;
      count: number;
      data: Buffer;
    }[];
    const rows = s.sqlite.prepare('SELECT position, kind, canonical FROM positions WHERE pair = ? AND epoch = ? AND removed = 0').all(pair, ep) as {
      position: number;
      kind: string | null;
      canonical: string | null;
    }[];
    const byPos = new Map(rows.map((r) => [r.position, r]));
    const out: Side[] = [];
    for (const c of chunks) {
      for (let i = 0; i < c.count; i++) {
        const r = byPos.get(c.first + i);
        if (!r) continue;
        out.push({ ...r, element: new Uint8Array(c.data.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)) });
      }
    }
    return out;
  });
}

/** The tokens ES computed for PT's side of a pair in the nightly flow. */
async function partnerTokens(pair: string, ep: string): Promise<Set<string>> {
  return w.withStore(ES, (s) => {
    const rows = s.sqlite.prepare('SELECT token FROM partner_tokens WHERE pair = ? AND epoch = ?').all(pair, ep) as { token: Buffer }[];
    return new Set(rows.map((r) => bytesToHex(new Uint8Array(r.token))));
  });
}

/** Signs and sends a reveal-pair query of `values` (any elements ES likes) and waits for PT's evaluation. */
async function askWith(values: readonly Uint8Array[], kind: 'passport' | 'email' = 'passport'): Promise<Uint8Array[]> {
  const agency = w.get(ES);
  const client = agencyClient(agency);
  const me = await client.me();
  const id = randomUUID();
  const createdAt = new Date().toISOString();
  const leg = me.pairs.find((p) => p.pair === revealPair);
  if (!leg) throw new Error('test: the reveal pair is not listed');
  const agreement = { id: REVEAL, version: leg.agreementVersion };
  const statement = {
    id,
    requester: ES,
    responder: PT,
    pair: revealPair,
    agreement,
    epoch: me.epoch.id,
    kind,
    purpose: 'terrorism',
    caseRef: 'OP-SCOPE/1',
    count: values.length,
    valuesSha256: queryValuesDigest(values),
    createdAt,
  };
  await client.createQuery({
    queryId: id,
    createdAt,
    legs: [{ partner: PT, agreement, pair: revealPair, epoch: me.epoch.id, signature: bytesToHex(signQuery(statement, agency.signingKey)) }],
    kind,
    purpose: 'terrorism',
    caseRef: 'OP-SCOPE/1',
    officer: 'officer-7',
    blinded: values.map(bytesToHex),
  });
  const answered = await waitUntil(async () => {
    const st = await client.getQuery(id, 2);
    const l = st.legs.find((x) => x.partner === PT);
    return l && l.status === 'answered' && l.evaluated ? l.evaluated : undefined;
  }, `PT's answer to ${id}`, 30_000);
  return answered.map((h) => hexToBytes(h));
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency(ES, 'ESP', [...range(110_000, 20), ...both]);
  await w.agency(PT, 'PRT', [...range(210_000, 20), ...both]);
  await w.agreement({ id: REVEAL, parties: [ES, PT], kinds: ['passport'], mode: 'reveal', queryQuota: { perDay: 100, maxValues: 100 } });
  await w.agreement({ id: COUNT, parties: [ES, PT], kinds: ['email'], mode: 'count' });
  await w.acceptAll(REVEAL, [ES, PT]);
  await w.acceptAll(COUNT, [ES, PT]);
  await w.syncAll([ES, PT]);
  serve = w.serve(PT);
  await serve.waitFor(/answering targeted queries/);
  const me = await agencyClient(w.get(ES)).me();
  epoch = me.epoch.id;
  revealPair = me.pairs.find((p) => p.agreement === REVEAL)?.pair as string;
  countPair = me.pairs.find((p) => p.agreement === COUNT)?.pair as string;
  expect(revealPair && countPair).toBeTruthy();
}, 180_000);

afterAll(async () => {
  await w?.stop();
});

describe('a requester reaching past its agreement with a targeted query', () => {
  it("learns nothing about the count pair from a reveal-pair query of its own count-pair elements", async () => {
    const es = w.get(ES);
    const pt = w.get(PT);
    // The count pair is complete and PT holds the planted e-mail addresses: there is something to learn.
    const results = await agencyClient(es).results();
    expect(results.pairs.find((p) => p.pair === countPair)).toMatchObject({ state: 'complete', mode: 'count' });
    expect(results.pairs.find((p) => p.pair === countPair)?.count).toBeGreaterThanOrEqual(both.length);

    const side = (await ownSide(countPair, epoch)).filter((s) => s.kind === 'email');
    const shared = new Set(both.map((p) => email(p).toLowerCase()));
    const planted = side.filter((s) => shared.has(s.canonical as string));
    expect(planted.length).toBe(both.length);
    const values = side.map((s) => s.element);

    const evaluated = await askWith(values);
    expect(evaluated.length).toBe(values.length);

    // ES "unblinds" with its count-pair key, as if the count-pair element were r·H(x) with r = k_ES,count.
    const kEs = es.secrets.pairKey(epoch, countPair).sk;
    const inv = scalarInvert(decodeScalar(kEs));
    const countTokens = await partnerTokens(countPair, epoch);
    expect(countTokens.size).toBeGreaterThan(0);
    const tokenOf = (u: Uint8Array) => bytesToHex(deriveToken(CONCORDAT_SUITE, encodePoint(pointMul(decodePoint('u', u), decodeScalar(kEs)))));
    const found = evaluated.filter((e) => countTokens.has(tokenOf(encodePoint(pointMul(decodePoint('e', e), inv)))));
    expect(found).toEqual([]);

    // The same attack against a responder with one key for both pairs (the count-pair key evaluating):
    // every planted address would be singled out. This is what per-pair keys take away.
    const kPtCount = decodeScalar(pt.secrets.pairKey(epoch, countPair).sk);
    const oneKeyAnswers = values.map((v) => encodePoint(pointMul(decodePoint('v', v), kPtCount)));
    const wouldFind = oneKeyAnswers.filter((e) => countTokens.has(tokenOf(encodePoint(pointMul(decodePoint('e', e), inv)))));
    expect(wouldFind.length).toBe(both.length);

    // Nor does the answer hit the reveal pair: its agreement covers passports only, so PT's reveal side holds no address.
    const kEsReveal = decodeScalar(es.secrets.pairKey(epoch, revealPair).sk);
    const revealTokens = await partnerTokens(revealPair, epoch);
    const revealHits = evaluated.filter((e) =>
      revealTokens.has(bytesToHex(deriveToken(CONCORDAT_SUITE, encodePoint(pointMul(pointMul(decodePoint('e', e), inv), kEsReveal))))),
    );
    expect(revealHits).toEqual([]);
  });

  it('an answer of one epoch is of no use against the sets of the next', async () => {
    const es = w.get(ES);
    // An honest reveal query for a planted passport, finished by hand: U = k_PT,reveal·H(x) of this epoch.
    const { guessedPoints } = await import('./forge.js');
    const h = guessedPoints('passport', [passport(both[0] as number)])[0] as Uint8Array;
    const r = decodeScalar(es.secrets.pairKey(epoch, revealPair).sk); // any scalar ES knows serves as a blind
    const blinded = encodePoint(pointMul(decodePoint('h', h), r));
    const [e] = await askWith([blinded]);
    const u = pointMul(decodePoint('e', e as Uint8Array), scalarInvert(r));
    const kEs = decodeScalar(es.secrets.pairKey(epoch, revealPair).sk);
    const hitNow = bytesToHex(deriveToken(CONCORDAT_SUITE, encodePoint(pointMul(u, kEs))));
    expect((await partnerTokens(revealPair, epoch)).has(hitNow)).toBe(true);

    await serve.stop();
    await w.coord.rotate();
    await w.syncAll([ES, PT]);
    const next = (await agencyClient(es).me()).epoch.id;
    expect(next).not.toBe(epoch);
    const tokensNext = await partnerTokens(revealPair, next);
    expect(tokensNext.size).toBeGreaterThan(0);
    const kNext = decodeScalar(es.secrets.pairKey(next, revealPair).sk);
    // Neither with the old key nor with the new one does the old answer match anything PT uploaded for the new epoch.
    expect(tokensNext.has(hitNow)).toBe(false);
    expect(tokensNext.has(bytesToHex(deriveToken(CONCORDAT_SUITE, encodePoint(pointMul(u, kNext)))))).toBe(false);
  }, 120_000);

  it('privacy: no planted identifier reached the coordinator’s database, log or wire', async () => {
    await assertNothingPlantedReachedTheCoordinator(w);
  });
});
