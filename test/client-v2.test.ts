// The agency client's own PSI v2 checks (protocol/SPEC.md §5.3, §8), each
// against the real coordinator in-process, with the coordinator's answers
// rewritten where a lying coordinator is played: nothing flows without a
// local acceptance or under another version, only accepted kinds are
// uploaded, a partner key or chunk not signed by the pinned partner key is
// refused, the tokenising cap holds, the responder refuses what the
// requester did not sign or the terms do not allow, epochs never go back,
// epoch secrets are erased, and plain http off the machine is refused.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAgreement, parseAgreement } from '../protocol/agreement.js';
import { bytesToHex } from '../protocol/bytes.js';
import { chunkManifest, signChunk } from '../protocol/manifest.js';
import { ratchetTo } from '../protocol/ratchet.js';
import { pairKeyPair } from '../protocol/pair-key.js';
import { CONCORDAT_SUITE } from '../protocol/constants.js';
import { randomBytes } from '../protocol/rng.js';
import { queryValuesDigest, signQuery } from '../protocol/signed-query.js';
import { listAudit } from '../clients/agency/audit.js';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { EpochSecrets } from '../clients/agency/epoch-secret.js';
import { checkInboxQuery, recordDecision } from '../clients/agency/respond.js';
import { Responder } from '../clients/agency/serve.js';
import { sync } from '../clients/agency/sync.js';
import { checkCoordinatorUrl, INSECURE_HTTP_WARNING } from '../clients/agency/transport.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import type { InboxQuery, Me } from '../clients/sdk/api.js';
import { CoordinatorClient, type PartnerChunk } from '../clients/sdk/client.js';
import { openStore, type Store } from '../clients/store/db.js';
import { loadFastEngine } from '../protocol/engine/index.js';
import { createQuery } from '../clients/agency/query.js';
import { acceptAs, pairId, RealCoordinator } from './client-coordinator.js';
import { built, cli, csvOf, range } from './client-world.js';

let coord: RealCoordinator;
let work: string;
const stores: Store[] = [];

beforeAll(async () => {
  coord = await RealCoordinator.start();
  work = mkdtempSync(join(tmpdir(), 'concordat-v2-'));
});
afterAll(async () => {
  for (const s of stores) s.close();
  await coord.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Party {
  agency: Agency;
  store: Store;
}

async function party(id: string, people: number[], country = 'ESP'): Promise<Party> {
  const r = initAgency({ dir: join(work, id), agency: id, coordinator: coord.url });
  const agency = loadAgency(r.dir);
  await coord.addAgency(id, r.publicKeyHex, country, agency.signingKey);
  const store = openStore(r.dir);
  stores.push(store);
  const file = join(work, `${id}.csv`);
  writeFileSync(file, csvOf(id, people));
  await importWatchlist(store, file);
  return { agency, store };
}

/** A client whose answers a test rewrites: the coordinator lying to this agency. */
function lying(p: Party, o: { me?: (m: Me) => Me; chunk?: (pair: string, index: number, c: PartnerChunk) => PartnerChunk } = {}): CoordinatorClient {
  class Lying extends CoordinatorClient {
    override async me(): Promise<Me> {
      const m = await super.me();
      return o.me ? o.me(m) : m;
    }
    override async getPartnerChunk(pair: string, index: number): Promise<PartnerChunk> {
      const c = await super.getPartnerChunk(pair, index);
      return o.chunk ? o.chunk(pair, index, c) : c;
    }
  }
  return new Lying({ baseUrl: coord.url, keyId: p.agency.agency, secretKey: p.agency.signingKey, retries: 2, backoffBaseMs: 5, backoffMaxMs: 50 });
}

const run = (p: Party, client?: CoordinatorClient, warn?: (l: string) => void) =>
  sync(p.agency, p.store, { threads: 0, canaryCount: () => 5, client: client ?? coord.client(p.agency.agency, p.agency.signingKey), ...(warn ? { warn } : {}) });

const actions = (p: Party) => listAudit(p.store).map((e) => e.action);
const uploadsBy = (agency: string, pair: string) => coord.seen.filter((s) => s.agency === agency && s.method === 'PUT' && s.path.startsWith(`/v1/pairs/${pair}/set/chunks/`)).length;
const tokensBy = (agency: string, pair: string) => coord.seen.filter((s) => s.agency === agency && s.method === 'PUT' && s.path.startsWith(`/v1/pairs/${pair}/partner-set/`)).length;

/** `p` accepts at the coordinator only (a signature, no local record): the coordinator may activate the version, this agency still does nothing under it. */
async function acceptAtCoordinatorOnly(p: Party, id: string, version: number): Promise<void> {
  const c = coord.client(p.agency.agency, p.agency.signingKey);
  const listed = (await c.agreements()).find((v) => v.terms.id === id && v.terms.version === version);
  const terms = parseAgreement(listed?.terms);
  await c.acceptAgreement(id, version, acceptAgreement(terms, p.agency.agency, p.agency.signingKey));
}

describe('agreements: only what this agency accepted, under its local terms', () => {
  let es: Party;
  let pt: Party;
  const pair = pairId('ab', 'ES-CNP', 'PT-PJ');

  beforeAll(async () => {
    es = await party('ES-CNP', range(1000, 20));
    pt = await party('PT-PJ', range(1010, 20), 'PRT');
  });

  it('does nothing for a pair whose agreement was not accepted here, even when the coordinator made it active', async () => {
    await coord.addAgreement({ id: 'ab', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email'], mode: 'reveal', maxSetSize: 1000 });
    await acceptAs(coord, es.agency, es.store, 'ab');
    await acceptAtCoordinatorOnly(pt, 'ab', 1);
    const warnings: string[] = [];
    const r = await run(pt, undefined, (l) => warnings.push(l));
    expect(r.errors).toEqual([]);
    expect(r.pairs[0]?.skipped).toMatch(/not accepted by this agency/);
    expect(warnings.join('\n')).toMatch(/pair ab~ES-CNP~PT-PJ skipped: agreement ab version 1 is not accepted by this agency/);
    expect(uploadsBy('PT-PJ', pair)).toBe(0);
    expect(coord.seen.some((s) => s.agency === 'PT-PJ' && s.path.endsWith('/epoch-key'))).toBe(false);
    expect(actions(pt)).toContain('agreement.not_accepted');
  });

  it('uploads only the kinds of the accepted terms, whatever /v1/me lists', async () => {
    await acceptAs(coord, pt.agency, pt.store, 'ab');
    // The coordinator claims the pair also covers phone numbers and a larger set.
    const client = lying(es, { me: (m) => ({ ...m, pairs: m.pairs.map((p) => ({ ...p, kinds: [...p.kinds, 'phone', 'iban'], maxSetSize: 10 ** 6 })) }) });
    writeFileSync(join(work, 'es-phone.csv'), `${csvOf('ES-CNP', range(1000, 20)).trim()}\nES-CNP-1000,phone,+34911000000\n`);
    await importWatchlist(es.store, join(work, 'es-phone.csv'));
    const r = await run(es, client);
    expect(r.errors).toEqual([]);
    const kinds = es.store.sqlite.prepare('SELECT DISTINCT kind FROM positions WHERE pair = ? AND kind IS NOT NULL ORDER BY kind').pluck().all(pair);
    expect(kinds).toEqual(['email', 'passport']);
    expect(uploadsBy('ES-CNP', pair)).toBeGreaterThan(0);
  });

  it('skips a version it never accepted: a changed agreement is accepted anew', async () => {
    await coord.addAgreement({ id: 'ab', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal', maxSetSize: 1000 });
    await acceptAtCoordinatorOnly(es, 'ab', 2);
    await acceptAtCoordinatorOnly(pt, 'ab', 2);
    const me = await coord.client(es.agency.agency, es.agency.signingKey).me();
    expect(me.pairs.find((p) => p.pair === pair)?.agreementVersion).toBe(2);
    const before = uploadsBy('ES-CNP', pair);
    const r = await run(es);
    expect(r.pairs[0]?.skipped).toMatch(/agreement ab version 2 is not accepted by this agency/);
    expect(uploadsBy('ES-CNP', pair)).toBe(before);
    await acceptAs(coord, es.agency, es.store, 'ab', 2);
    await acceptAs(coord, pt.agency, pt.store, 'ab', 2);
    expect((await run(es)).pairs[0]?.skipped).toBeUndefined();
  });

  it('refuses without a terminal unless --yes, names the officer, and shows fingerprints', async () => {
    if (!built) throw new Error('the build output is missing: run `npm run build`');
    await coord.addAgreement({ id: 'cli-check', parties: ['ES-CNP', 'PT-PJ'], kinds: ['email'], mode: 'count' });
    const dir = es.agency.dir;
    const noTty = await cli(['agreements', 'accept', 'cli-check', '--dir', dir, '--officer', 'o.one']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/refusing to accept without a terminal to confirm on; pass --yes/);
    const noOfficer = await cli(['agreements', 'accept', 'cli-check', '--dir', dir, '--yes']);
    expect(noOfficer.code).toBe(2); // a missing required option is the usage code (clients/README-cli.md, exit codes)
    expect(noOfficer.stderr).toMatch(/--officer/);
    const show = await cli(['agreements', 'show', 'cli-check', '--dir', dir]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/ES-CNP\s+([0-9a-f]{4} ){7}[0-9a-f]{4}\s+this agency/);
    const list = await cli(['agreements', 'list', '--dir', dir]);
    expect(list.stdout).toMatch(/cli-check\s+1\s+proposed\s+undecided/);
    const rej = await cli(['agreements', 'reject', 'cli-check', '--dir', dir, '--officer', 'o.one', '--yes']);
    expect(rej.code, rej.stderr).toBe(0);
    const again = await cli(['agreements', 'accept', 'cli-check', '--dir', dir, '--officer', 'o.two', '--yes']);
    // A rejected version is no longer offered, and this agency would refuse it anyway.
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/lists no agreement cli-check|was rejected here .* by o\.one/);
    const entries = listAudit(es.store).filter((e) => e.subject === 'cli-check v1');
    expect(entries.map((e) => [e.action, e.officer, e.outcome])).toContainEqual(['agreement.rejected', 'o.one', 'ok']);
  });
});

describe('partner keys and chunks: only what the pinned partner key signed', () => {
  let es: Party;
  let fr: Party;
  const pair = pairId('ef', 'ES-CNP', 'FR-OC');

  beforeAll(async () => {
    es = { agency: loadAgency(join(work, 'ES-CNP')), store: stores[0] as Store };
    fr = await party('FR-OC', range(1005, 2), 'FRA');
    await coord.addAgreement({ id: 'ef', parties: ['ES-CNP', 'FR-OC'], kinds: ['passport'], mode: 'reveal', maxSetSize: 30 });
    await acceptAs(coord, es.agency, es.store, 'ef');
    await acceptAs(coord, fr.agency, fr.store, 'ef');
    await run(fr);
  });

  it("refuses a partner epoch key that the partner's pinned key did not sign: nothing evaluated", async () => {
    const client = lying(es, {
      me: (m) => ({ ...m, pairs: m.pairs.map((p) => (p.pair === pair && p.partnerEpochKey ? { ...p, partnerEpochKey: { ...p.partnerEpochKey, signature: '11'.repeat(64) } } : p)) }),
    });
    const r = await run(es, client);
    expect(r.errors.join('\n')).toMatch(/pair ef~ES-CNP~FR-OC: the partner's epoch key is refused \(signature/);
    expect(tokensBy('ES-CNP', pair)).toBe(0);
    expect(es.store.sqlite.prepare('SELECT count(*) FROM sides WHERE pair = ?').pluck().get(pair)).toBe(0);
    expect(actions(es)).toContain('epoch_key.refused');
  });

  it('refuses a chunk whose bytes differ from the signed manifest: no token computed or uploaded', async () => {
    const client = lying(es, { chunk: (_p, _i, c) => ({ ...c, elements: c.elements.map((b, k) => (k === 0 ? b ^ 1 : b)) }) });
    const r = await run(es, client);
    expect(r.errors.join('\n')).toMatch(/pair ef~ES-CNP~FR-OC: partner chunk 0 refused \(digest/);
    expect(tokensBy('ES-CNP', pair)).toBe(0);
    expect(listAudit(es.store).find((e) => e.action === 'chunk.refused')?.detail).toMatchObject({ reason: 'digest', index: 0 });
  });

  it('tokenises no more than 2 × maxSetSize + 4096 positions of a partner, even signed ones', async () => {
    const n = 2 * 30 + 4096 + 1;
    const elements = randomBytes(n * 32);
    const manifest = chunkManifest({ pair, agreement: { id: 'ef', version: 1 }, epoch: 'e1', agency: 'FR-OC', index: 0, firstPosition: 0 }, elements);
    const signature = signChunk(manifest, fr.agency.signingKey);
    const r = await run(es, lying(es, { chunk: () => ({ elements, manifest, signature }) }));
    expect(r.errors.join('\n')).toMatch(/partner chunk 0 refused \(cap exceeded/);
    expect(tokensBy('ES-CNP', pair)).toBe(0);
    expect(listAudit(es.store).find((e) => e.action === 'chunk.cap_exceeded')?.detail).toMatchObject({ reason: 'size', cap: 4156 });
  });

  it('with honest answers, the pair completes', async () => {
    const r = await run(es);
    expect(r.errors.filter((e) => e.includes(pair))).toEqual([]);
    expect(tokensBy('ES-CNP', pair)).toBeGreaterThan(0);
  });
});

describe('the responder checks every query against its accepted terms', () => {
  let es: Party;
  let pt: Party;
  const pair = pairId('ab', 'ES-CNP', 'PT-PJ');
  const now = Date.now();

  beforeAll(() => {
    es = { agency: loadAgency(join(work, 'ES-CNP')), store: stores[0] as Store };
    pt = { agency: loadAgency(join(work, 'PT-PJ')), store: stores[1] as Store };
  });

  /** A query ES signs for PT under `ab` v2 (terms: reveal, purposes of the deployment, passport/email/phone). */
  function query(o: Partial<InboxQuery> & { sign?: boolean } = {}): InboxQuery {
    const blinded = o.blinded ?? [bytesToHex(randomBytes(32))];
    const base = {
      queryId: crypto.randomUUID(),
      from: 'ES-CNP',
      pair,
      agreement: { id: 'ab', version: 2 },
      kind: 'passport',
      purpose: 'terrorism',
      caseRef: 'OP-1',
      epoch: 'e1',
      createdAt: new Date(now).toISOString(),
      ...o,
      blinded,
    };
    const statement = {
      id: base.queryId,
      requester: base.from,
      responder: 'PT-PJ',
      pair: base.pair,
      agreement: base.agreement,
      epoch: base.epoch,
      kind: base.kind,
      purpose: base.purpose,
      caseRef: base.caseRef,
      count: blinded.length,
      valuesSha256: queryValuesDigest(blinded.map((h) => Uint8Array.from(Buffer.from(h, 'hex')))),
      createdAt: base.createdAt,
    };
    const signature = o.signature ?? bytesToHex(signQuery(statement, es.agency.signingKey));
    return { ...base, signature };
  }
  const check = (q: InboxQuery, at = now) => checkInboxQuery(pt.agency, pt.store, q, at);

  it('answers a query the requester signed within the terms', () => {
    expect(check(query())).toMatchObject({ ok: true });
  });

  it.each([
    ['unsigned', () => query({ signature: '00'.repeat(64) }), 'signature'],
    ['altered in flight', () => ({ ...query(), caseRef: 'OP-OTHER' }), 'signature'],
    ['a kind outside the terms', () => query({ kind: 'iban' }), 'kind'],
    ['a purpose outside the terms', () => query({ purpose: 'tax_evasion' }), 'purpose'],
    ['from the future', () => query({ createdAt: new Date(now + 3_600_000).toISOString() }), 'future'],
    ['expired', () => query({ createdAt: new Date(now - 8 * 86_400_000).toISOString() }), 'expired'],
    ['of an epoch not answered now', () => query({ epoch: 'e7' }), 'epoch'],
    ['under a version not accepted here', () => query({ agreement: { id: 'ab', version: 3 } }), 'not-accepted'],
  ])('refuses a query %s', (_name, make, reason) => {
    const r = check(make());
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toBe(reason);
  });

  it('refuses a replayed query id and a requester over its daily quota', () => {
    const q = query();
    expect(check(q).ok).toBe(true);
    recordDecision(pt.store, { queryId: q.queryId, from: 'ES-CNP' }, { answered: true }, now);
    expect(check(q)).toMatchObject({ ok: false, reason: 'replay' });
    const perDay = parseAgreement(JSON.parse(pt.store.sqlite.prepare("SELECT terms FROM agreements WHERE id = 'ab' AND version = 2").pluck().get() as string)).queryQuota.perDay;
    for (let i = 1; i < perDay; i++) recordDecision(pt.store, { queryId: crypto.randomUUID(), from: 'ES-CNP' }, { answered: true }, now);
    expect(check(query())).toMatchObject({ ok: false, reason: 'quota' });
    // The count is per UTC day.
    expect(check(query({ createdAt: new Date(now + 86_400_000).toISOString() }), now + 86_400_000).ok).toBe(true);
  });

  it('never evaluates a refused query, writes the refusal to its audit trail and tells the coordinator', async () => {
    const engine = await loadFastEngine();
    const esClient = coord.client(es.agency.agency, es.agency.signingKey);
    // A fresh agreement, so the quota above does not interfere.
    await coord.addAgreement({ id: 'ab-q', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'reveal', queryQuota: { perDay: 5, maxValues: 5 } });
    await acceptAs(coord, es.agency, es.store, 'ab-q');
    await acceptAs(coord, pt.agency, pt.store, 'ab-q');
    const id = await createQuery(
      { agency: es.agency, store: es.store, client: esClient, engine },
      { partners: ['PT-PJ'], kind: 'passport', purpose: 'terrorism', caseRef: 'OP-REFUSE', officer: 'o' },
      ['ESP:P0000001'],
    );
    const ptClient = coord.client(pt.agency.agency, pt.agency.signingKey);
    const inbox = (await ptClient.inbox(0)).filter((q) => q.queryId === id);
    expect(inbox).toHaveLength(1);
    // The coordinator stretches the query to another case: the signature no longer covers it.
    const forged = { ...(inbox[0] as InboxQuery), caseRef: 'OP-FISHING' };
    const responder = new Responder(pt.agency, engine, ptClient, pt.store);
    expect(await responder.handle(forged)).toMatchObject({ answered: false, reason: 'signature' });
    expect(coord.seen.some((s) => s.agency === 'PT-PJ' && s.path === `/v1/queries/${id}/answer`)).toBe(false);
    const leg = (await esClient.getQuery(id)).legs[0];
    expect(leg).toMatchObject({ partner: 'PT-PJ', status: 'refused', reason: 'signature' });
    const refusal = listAudit(pt.store).find((e) => e.action === 'query.refused' && e.subject === id);
    expect(refusal).toMatchObject({ outcome: 'refused', caseRef: 'OP-FISHING', detail: { reason: 'signature', from: 'ES-CNP' } });
  });
});

describe('epochs move forward only; secrets are erased', () => {
  it('ratchets forward, keeps the previous secret for the grace period only, and wipes the seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'concordat-ratchet-'));
    try {
      const seed = randomBytes(32);
      writeFileSync(join(dir, 'epoch.seed'), `${bytesToHex(seed)}\n`, { mode: 0o600 });
      let t = Date.parse('2026-01-01T00:00:00Z');
      const secrets = new EpochSecrets(dir, { graceHours: 48, now: () => new Date(t) });
      expect(bytesToHex(secrets.advanceTo('e1'))).toBe(bytesToHex(seed));
      expect(existsSync(join(dir, 'epoch.seed'))).toBe(true);
      expect(bytesToHex(secrets.advanceTo('e3'))).toBe(bytesToHex(ratchetTo(seed, 1, 3)));
      expect(existsSync(join(dir, 'epoch.seed'))).toBe(false);
      expect(statSync(join(dir, 'epoch.secret')).mode & 0o777).toBe(0o600);
      expect(secrets.answerable()).toEqual(['e3', 'e2']);
      expect(bytesToHex(secrets.secretOf('e2') as Uint8Array)).toBe(bytesToHex(ratchetTo(seed, 1, 2)));
      expect(secrets.secretOf('e1')).toBeUndefined();
      // Pair keys are derived once per process and epoch, and never outlive their epoch's secret.
      const e2 = secrets.pairKey('e2', 'es-pt~ES-CNP~PT-PJ');
      expect(bytesToHex(e2.pk)).toBe(bytesToHex(pairKeyPair(CONCORDAT_SUITE, ratchetTo(seed, 1, 2), 'e2', 'es-pt~ES-CNP~PT-PJ').pk));
      (e2.sk as Uint8Array).fill(0);
      expect(bytesToHex(secrets.pairKey('e2', 'es-pt~ES-CNP~PT-PJ').sk)).toBe(bytesToHex(pairKeyPair(CONCORDAT_SUITE, ratchetTo(seed, 1, 2), 'e2', 'es-pt~ES-CNP~PT-PJ').sk));
      expect(bytesToHex(secrets.pairKey('e3', 'es-pt~ES-CNP~PT-PJ').pk)).not.toBe(bytesToHex(e2.pk));
      t += 49 * 3_600_000;
      expect(() => secrets.pairKey('e2', 'es-pt~ES-CNP~PT-PJ')).toThrow(/the epoch secret of e2 is no longer held/);
      expect(secrets.secretOf('e2')).toBeUndefined();
      expect(secrets.answerable()).toEqual(['e3']);
      // Nothing of an earlier epoch is left on disk.
      const file = readFileSync(join(dir, 'epoch.secret'), 'utf8');
      for (const n of [1, 2]) expect(file).not.toContain(bytesToHex(ratchetTo(seed, 1, n)));
      expect(() => secrets.advanceTo('e2')).toThrow(/the coordinator presents e2, older than e3 already seen: refusing \(possible rollback\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a coordinator that presents an older epoch than already seen, in the local audit trail', async () => {
    const p = { agency: loadAgency(join(work, 'FR-OC')), store: stores[2] as Store };
    await coord.rotate();
    expect((await run(p)).epoch).toBe('e2');
    const client = lying(p, { me: (m) => ({ ...m, epoch: { ...m.epoch, id: 'e1' } }) });
    await expect(run(p, client)).rejects.toThrow(/the coordinator presents e1, older than e2 already seen: refusing \(possible rollback\)/);
    expect(listAudit(p.store).find((e) => e.action === 'epoch.rollback_refused')).toMatchObject({ subject: 'e1', outcome: 'refused', detail: { highest: 'e2' } });
  });
});

describe('transport', () => {
  it('refuses plain http to a coordinator off the machine unless CONCORDAT_INSECURE_HTTP=1, which warns', async () => {
    expect(() => checkCoordinatorUrl('http://127.0.0.1:8787', 'x', () => {}, {})).not.toThrow();
    expect(() => checkCoordinatorUrl('http://localhost:8787', 'x', () => {}, {})).not.toThrow();
    expect(() => checkCoordinatorUrl('https://coord.example.org', 'x', () => {}, {})).not.toThrow();
    expect(() => checkCoordinatorUrl('http://coord.example.org', '--coordinator', () => {}, {})).toThrow(/--coordinator: the coordinator coord\.example\.org is reached over plain http/);
    const warned: string[] = [];
    checkCoordinatorUrl('http://coord.example.org', 'x', (l) => warned.push(l), { CONCORDAT_INSECURE_HTTP: '1' });
    expect(warned).toEqual([INSECURE_HTTP_WARNING]);
    if (!built) throw new Error('the build output is missing: run `npm run build`');
    const init = await cli(['init', '--dir', join(work, 'XX-HTTP'), '--agency', 'XX-HTTP', '--coordinator', 'http://coord.example.org']);
    expect(init.code).toBe(1);
    expect(init.stderr).toMatch(/must use https:\/\//);
    expect(existsSync(join(work, 'XX-HTTP', 'signing.key'))).toBe(false);
  });
});
