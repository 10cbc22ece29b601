// The nightly sync against a hostile coordinator (protocol/SPEC.md §5.3,
// Coordinator (active) items 1–4 and 6): the agency's own sync (the library's
// `sync`, unmodified) must tokenise only chunks its partner signed for this
// pair, agreement version, epoch and position; act only on agreements, kinds
// and partners it accepted; use only partner keys the partner signed; and
// never follow the coordinator back to an older epoch. Every refusal is in
// the agency's LOCAL audit trail, and is harmless: the coordinator receives
// no token, no canary and no upload for what was refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import { unpack } from '../../protocol/engine/types.js';
import { identifierInput } from '../../protocol/identifiers/index.js';
import { pairKeyPair } from '../../protocol/pair-key.js';
import { attackerEpochKey, canonical, engine, forgedChunk, guessedPoints } from './forge.js';
import { rewriteJson, type Exchange } from './hostile.js';
import { assertNothingPlantedReachedTheCoordinator } from './privacy.js';
import { built, passport, range, World } from './world.js';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const FR = 'FR-OC';
const IT = 'IT-DC';
const ES_PT = `es-pt~${ES}~${PT}`;
const PT_FR = `pt-fr~${FR}~${PT}`;
const ES_FR = `es-fr~${ES}~${FR}`;
const ES_IT = `es-it~${ES}~${IT}`;
const both = range(900_000, 6);
const esPeople = [...range(100_000, 40), ...both];

let w: World;
/** ES's s_1, read before any rotation: the test recomputes ES's pair keys with it. */
let esSeed: Uint8Array;
/** Where ES's trail stood before the sync the coordinator added a kind to. */
let kindAttackMark = 0;
/** Removes the rule that hides es-fr from ES and FR. */
let showEsFr: () => void;

const fromEs = (x: Exchange) => x.agency === ES;
const writes = (x: Exchange) => x.method !== 'GET' && x.method !== 'HEAD';
const forPair = (pair: string) => (x: Exchange) => x.path.startsWith(`/v1/pairs/${pair}/`) || x.path.startsWith(`/v1/pairs/${encodeURIComponent(pair)}/`);
const tokensFor = (pair: string, index?: number) => (x: Exchange) =>
  x.method === 'PUT' && forPair(pair)(x) && (index === undefined ? /\/partner-set\/chunks\/\d+\/tokens$/.test(x.path) : x.path.endsWith(`/partner-set/chunks/${index}/tokens`));

/** The newest local audit entry of ES: entries after it are the ones an attack caused. */
let auditMark = 0;
beforeEach(async () => {
  auditMark = (await w.audit(ES))[0]?.seq ?? 0;
});

/** The sync has returned when this runs: its refusal, if any, is written. Only entries of the current test count. */
async function refusedInEsAudit(action: string, match: (detail: Record<string, unknown>, subject: string) => boolean) {
  const e = (await w.audit(ES)).find((a) => a.seq > auditMark && a.action === action && match(a.detail as Record<string, unknown>, a.subject));
  expect(e, `a local audit entry ${action} at ${ES}: ${JSON.stringify((await w.audit(ES)).slice(0, 8))}`).toBeDefined();
  expect(e?.outcome).not.toBe('ok');
  return e as NonNullable<typeof e>;
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency(ES, 'ESP', esPeople);
  await w.agency(PT, 'PRT', [...range(200_000, 40), ...both]);
  await w.agency(FR, 'FRA', [...range(300_000, 30), ...both]);
  await w.agency(IT, 'ITA', range(400_000, 10));
  esSeed = hexToBytes(readFileSync(join(w.dir(ES), 'epoch.seed'), 'utf8').trim());
  await w.agreement({ id: 'es-pt', parties: [ES, PT] });
  await w.agreement({ id: 'pt-fr', parties: [PT, FR] });
  await w.agreement({ id: 'es-fr', parties: [ES, FR], kinds: ['email'] });
  // Proposed by the operator; ES never accepts it (IT does).
  await w.agreement({ id: 'es-it', parties: [ES, IT] });
  // One directory accepts one agreement at a time; different directories at once.
  await Promise.all([w.accept(ES, 'es-pt'), w.accept(PT, 'es-pt'), w.accept(FR, 'pt-fr'), w.accept(IT, 'es-it')]);
  await Promise.all([w.accept(ES, 'es-fr'), w.accept(PT, 'pt-fr'), w.accept(FR, 'es-fr')]);
  // es-pt and pt-fr complete; es-fr stays out of sight until its tests (nothing uploaded to it before).
  showEsFr = w.coord.use({
    label: 'keep es-fr out of the setup syncs',
    when: (x) => x.method === 'GET' && x.path === '/v1/me' && (x.agency === ES || x.agency === FR),
    response: (res) => rewriteJson(res, (b: { pairs: Array<{ pair: string }> }) => ({ ...b, pairs: b.pairs.filter((p) => p.pair !== ES_FR) })),
  });
  await w.syncAll([ES, PT, FR]);
  const status = await w.coord.client(ES, w.get(ES).signingKey).status(ES_PT);
  expect(status.state).toBe('complete');
}, 180_000);

afterAll(async () => {
  await w?.stop();
});

describe('a hostile coordinator against the nightly sync', () => {
  it('refuses a forged partner chunk whose manifest is consistent with its bytes but not signed by the partner', async () => {
    const st = await w.coord.client(PT, w.get(PT).signingKey).status(ES_PT);
    const index = st.mine.chunks.length;
    const firstPosition = st.mine.size + st.mine.removed;
    // Guessed identifiers, some of them ES's own: ES's tokens of these would tell the coordinator which ES holds.
    const chunk = forgedChunk(
      { pair: ES_PT, agreement: { id: 'es-pt', version: 1 }, epoch: 'e1', agency: PT, index, firstPosition },
      guessedPoints('passport', [passport(both[0] as number), passport(100_001), passport(777_777)]),
    );
    const offWork = w.coord.use({
      label: 'a forged task in /v1/work',
      when: (x) => x.method === 'GET' && x.path === '/v1/work' && fromEs(x),
      response: (res) =>
        rewriteJson(res, (b: { tasks: unknown[] }) => ({
          tasks: [...b.tasks, { pair: ES_PT, partner: PT, agreement: chunk.manifest.agreement, epoch: 'e1', index, firstPosition, count: chunk.manifest.count, sha256: chunk.manifest.sha256, signature: chunk.signature }],
        })),
    });
    const offChunk = w.coord.use({
      label: 'the forged chunk served',
      when: (x) => x.method === 'GET' && fromEs(x) && x.path === `/v1/pairs/${ES_PT}/partner-set/chunks/${index}`,
      answer: () => new Response(chunk.bytes, { status: 200, headers: chunk.headers }),
    });
    try {
      const mark = w.coord.seen.length;
      const report = await w.sync(ES);
      expect(report.errors.join('\n')).toMatch(/chunk|signature/i);
      const e = await refusedInEsAudit('chunk.refused', (d) => d.reason === 'signature' && d.index === index);
      expect(JSON.stringify(e)).not.toContain(bytesToHex(chunk.bytes.subarray(0, 32)));
      // Harmless: not one token of it reached the coordinator.
      expect(w.coord.since(mark, tokensFor(ES_PT, index))).toEqual([]);
    } finally {
      offChunk();
      offWork();
    }
  });

  it("refuses another pair's chunk — signed by the same partner — served as this pair's", async () => {
    // PT's own chunk 0 of pair pt-fr, as the coordinator served it to FR: PT's genuine signature.
    const theirs = w.coord.served.get(`/v1/pairs/${PT_FR}/partner-set/chunks/0`);
    expect(theirs, 'FR downloaded PT’s chunk 0 of pt-fr during the setup').toBeDefined();
    const st = await w.coord.client(PT, w.get(PT).signingKey).status(ES_PT);
    const index = st.mine.chunks.length;
    const bytes = theirs?.bytes as Uint8Array;
    const manifest = JSON.parse(Buffer.from((theirs?.headers.get('concordat-chunk-manifest') ?? '::').slice(1, -1), 'base64').toString('utf8')) as { count: number; sha256: string; firstPosition: number };
    const signature = Buffer.from((theirs?.headers.get('concordat-chunk-signature') ?? '::').slice(1, -1), 'base64').toString('hex');
    const offWork = w.coord.use({
      label: "another pair's chunk as a task of es-pt",
      when: (x) => x.method === 'GET' && x.path === '/v1/work' && fromEs(x),
      response: (res) =>
        rewriteJson(res, (b: { tasks: unknown[] }) => ({
          tasks: [...b.tasks, { pair: ES_PT, partner: PT, agreement: { id: 'es-pt', version: 1 }, epoch: 'e1', index, firstPosition: st.mine.size + st.mine.removed, count: manifest.count, sha256: manifest.sha256, signature }],
        })),
    });
    const offChunk = w.coord.use({
      label: "another pair's chunk served",
      when: (x) => x.method === 'GET' && fromEs(x) && x.path === `/v1/pairs/${ES_PT}/partner-set/chunks/${index}`,
      answer: () => new Response(bytes, { status: 200, headers: theirs?.headers as Headers }),
    });
    try {
      const mark = w.coord.seen.length;
      await w.sync(ES);
      // The partner signed another pair's manifest: rebuilt as the manifest of this pair and index, its signature fails.
      const e = await refusedInEsAudit('chunk.refused', (d) => d.index === index);
      expect(['signature', 'pair']).toContain(e.detail.reason);
      expect(w.coord.since(mark, tokensFor(ES_PT, index))).toEqual([]);
    } finally {
      offChunk();
      offWork();
    }
  });

  it('uploads nothing for an agreement the agency never accepted, made active in the stolen database', async () => {
    // The operator's own database says every party accepted es-it: the real coordinator now lists it in
    // ES's /v1/me and would take ES's uploads for it.
    w.coord.db.prepare("UPDATE agreement_versions SET status = 'active' WHERE agreement_id = 'es-it'").run();
    try {
      const me = await w.coord.client(ES, w.get(ES).signingKey).me();
      expect(me.pairs.map((p) => p.pair)).toContain(ES_IT);
      const mark = w.coord.seen.length;
      await w.sync(ES);
      const e = await refusedInEsAudit('agreement.not_accepted', (_d, subject) => subject === ES_IT);
      expect(e.detail).toMatchObject({ agreement: 'es-it', version: 1 });
      // Harmless: no key, chunk, removal, canary or token of ES for it.
      expect(w.coord.since(mark, (x) => fromEs(x) && writes(x) && forPair(ES_IT)(x))).toEqual([]);
      expect(w.coord.db.prepare("SELECT count(*) FROM pair_epoch_keys WHERE pair_id = ? AND agency = ?").pluck().get(ES_IT, ES)).toBe(0);
    } finally {
      w.coord.db.prepare("UPDATE agreement_versions SET status = 'proposed' WHERE agreement_id = 'es-it'").run();
    }
  });

  it('uploads nothing of a kind the coordinator added to an accepted agreement', async () => {
    showEsFr();
    const off = w.coord.use({
      label: 'add passport to es-fr in /v1/me',
      when: (x) => x.method === 'GET' && x.path === '/v1/me' && fromEs(x),
      response: (res) =>
        rewriteJson(res, (b: { pairs: Array<{ pair: string; kinds: string[] }> }) => ({
          ...b,
          pairs: b.pairs.map((p) => (p.pair === ES_FR ? { ...p, kinds: [...new Set([...p.kinds, 'passport'])].sort() } : p)),
        })),
    });
    try {
      const mark = w.coord.seen.length;
      const report = await w.sync(ES);
      // ES's passports as they would be blinded for es-fr in e1 (the test holds ES's s_1): none went out.
      const sk = pairKeyPair(CONCORDAT_SUITE, esSeed, 'e1', ES_FR).sk;
      const blinded = new Set(unpack(engine.blind(CONCORDAT_SUITE, sk, esPeople.map((p) => identifierInput('passport', canonical('passport', passport(p))))), 32).map((b) => bytesToHex(b)));
      const uploads = w.coord.since(mark, (x) => fromEs(x) && x.method === 'PUT' && forPair(ES_FR)(x) && /\/set\/chunks\/\d+$/.test(x.path));
      expect(uploads.length, `ES uploaded its side of es-fr (its e-mails): ${JSON.stringify(report)} ${JSON.stringify(w.coord.since(mark).map((x) => [x.method, x.path, x.status]))}`).toBeGreaterThan(0);
      for (const u of uploads) for (const el of unpack(u.body, 32)) expect(blinded.has(bytesToHex(el))).toBe(false);
      kindAttackMark = auditMark;
    } finally {
      off();
    }
  });

  // Fails today: the sync ignores the added kind (the test above), but gatePair
  // (clients/agency/sync/accept.ts) replaces the coordinator's terms with the accepted ones without
  // writing the discrepancy to the local trail, so §5.3 item 6 does not hold for this attack.
  it('writes the kind the coordinator added to the local trail', async () => {
    // The coordinator's change of the terms is itself written down: the authority sees it was tried.
    const e = (await w.audit(ES)).find((a) => a.seq > kindAttackMark && a.subject === ES_FR && a.outcome !== 'ok' && /^(agreement|pair)\./.test(a.action));
    expect(e, `a local audit entry for the kind added to ${ES_FR}`).toBeDefined();
  });

  it('neither registers canaries nor tokenises under a partner key the partner did not sign', async () => {
    await w.sync(FR); // FR uploads its side of es-fr and publishes its signed key.
    expect((await w.coord.client(FR, w.get(FR).signingKey).status(ES_FR)).mine.chunks.length, 'FR’s side of es-fr is there to tokenise').toBeGreaterThan(0);
    const off = w.coord.use({
      label: "substitute FR's epoch key for es-fr",
      when: (x) => x.method === 'GET' && x.path === '/v1/me' && fromEs(x),
      response: (res) =>
        rewriteJson(res, (b: { pairs: Array<{ pair: string; partnerEpochKey: unknown }> }) => ({
          ...b,
          pairs: b.pairs.map((p) =>
            p.pair === ES_FR
              ? { ...p, partnerEpochKey: attackerEpochKey({ agency: FR, epoch: 'e1', pair: ES_FR, agreement: { id: 'es-fr', version: 1 } }, bytesToHex(guessedPoints('email', ['attacker@key.example'])[0] as Uint8Array)) }
              : p,
          ),
        })),
    });
    try {
      const mark = w.coord.seen.length;
      await w.sync(ES);
      const e = await refusedInEsAudit('epoch_key.refused', (_d, subject) => subject === ES_FR);
      expect(e.detail).toMatchObject({ reason: 'signature', partner: FR, epoch: 'e1' });
      const sent = w.coord.since(mark, (x) => fromEs(x) && forPair(ES_FR)(x));
      expect(sent.filter((x) => x.method === 'PUT' && /\/set\/canaries$/.test(x.path))).toEqual([]);
      expect(sent.filter((x) => x.method === 'POST' && /\/set\/canaries\/done$/.test(x.path))).toEqual([]);
      expect(sent.filter(tokensFor(ES_FR))).toEqual([]);
    } finally {
      off();
    }
  });

  it('refuses to follow the coordinator back to an older epoch', async () => {
    expect((await w.coord.rotate()).epoch.id).toBe('e2');
    await w.sync(ES); // ES moves to e2 (and ratchets its secret forward).
    const back = (res: Response) =>
      rewriteJson(res, (b: Record<string, unknown>) => {
        if (typeof b.epoch === 'string') return { ...b, epoch: 'e1' };
        if (b.epoch && typeof b.epoch === 'object') return { ...b, epoch: { ...(b.epoch as object), id: 'e1' } };
        if (Array.isArray(b.tasks)) return { tasks: (b.tasks as Array<Record<string, unknown>>).map((t) => ({ ...t, epoch: 'e1' })) };
        return b;
      });
    const off = w.coord.use({
      label: 'present e1 again',
      when: (x) => x.method === 'GET' && fromEsOrUnsigned(x) && (x.path === '/' || x.path === '/v1/me' || x.path === '/v1/work'),
      response: back,
    });
    try {
      const mark = w.coord.seen.length;
      const r = await w.sync(ES).catch((e: unknown) => ({ errors: [String(e)] }));
      expect(r.errors.join('\n')).toMatch(/older than e2 already seen: refusing \(possible rollback\)/);
      const e = await refusedInEsAudit('epoch.rollback_refused', () => true);
      expect(e.detail).toMatchObject({ highest: 'e2' });
      expect(w.coord.since(mark, (x) => fromEs(x) && writes(x))).toEqual([]);
    } finally {
      off();
    }
  });

  it('privacy: after every attack above, no planted identifier reached the coordinator’s database, log or wire', async () => {
    await assertNothingPlantedReachedTheCoordinator(w);
  });
});

function fromEsOrUnsigned(x: Exchange): boolean {
  return x.agency === ES || x.agency === '';
}


