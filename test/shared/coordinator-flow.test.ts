// End-to-end nightly overlap checks with real blinded data: two and three
// agencies, planted overlaps, canaries, a dishonest partner, removals.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import type { Engine } from '../../protocol/engine/index.js';
import { identifierInput } from '../../protocol/identifiers/index.js';
import type { KeyPair } from '../../protocol/keys.js';
import { randomBytes } from '../../protocol/rng.js';
import { makeCanary } from '../../protocol/token.js';
import { verifyAuditChain } from '../../src/audit.js';
import { addAgreement, epochKeyPair, makeHarness, type Harness, type Signer } from '../coordinator-harness.js';
import type { Row } from '../coordinator-runtime.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { emails, item, SimAgency as BaseSim, type Item } from '../coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

class SimAgency extends BaseSim {
  constructor(h: Harness, signer: Signer, items: Item[]) {
    super(h, engine, signer, items);
  }
}

const PAIR = 'es-pt~ES-CNP~PT-PJ';

describe('nightly overlap, two agencies', () => {
  let h: Harness;
  let es: SimAgency;
  let pt: SimAgency;
  let shared: Item[];

  beforeEach(async () => {
    h = await makeHarness();
    // Shared suspects written differently on each side: canonicalisation makes them equal.
    shared = [
      ...emails('shared.suspect', 17, 'example.org'),
      item('passport', 'ESP X1234567'),
      item('passport', 'PRT AB123456'),
    ];
    const esItems = [...emails('es.only', 230, 'policia.example'), ...shared];
    const ptItems = [
      ...emails('pt.only', 180, 'pj.example'),
      ...shared.map((s) => (s.kind === 'email' ? item('email', `  ${s.raw.toUpperCase()} `) : item(s.kind, s.raw.toLowerCase()))),
    ];
    es = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), esItems);
    pt = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), ptItems);
  });
  afterEach(async () => {
    await h.close();
  });

  async function run(mode: 'reveal' | 'count', ptTokenKey?: Uint8Array) {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], mode });
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, es.items, 24, 100);
    await pt.upload(PAIR, es.kp.pk, pt.items, 24, 64);
    expect((await es.results()).pairs[0]).toEqual({ pair: PAIR, agreement: 'es-pt', partner: 'PT-PJ', mode, state: 'waiting' });
    expect(await es.work()).toBe(Math.ceil((pt.items.length + 24) / 64));
    expect(await pt.work(ptTokenKey)).toBe(Math.ceil((es.items.length + 24) / 100));
  }

  it('reveal: each side learns exactly its own matched positions, with the same handles', async () => {
    await run('reveal');
    const esRes = (await es.results()).pairs[0];
    const ptRes = (await pt.results()).pairs[0];
    expect(esRes.state).toBe('complete');
    expect(ptRes.state).toBe('complete');
    expect(esRes.count).toBeUndefined();
    const esMatched = es.matchedItems(esRes);
    const ptMatched = pt.matchedItems(ptRes);
    const expected = shared.map((s) => `${s.kind}:${s.canonical}`).sort();
    expect([...esMatched.keys()].sort()).toEqual(expected);
    expect([...ptMatched.keys()].sort()).toEqual(expected);
    for (const k of expected) {
      expect(esMatched.get(k)?.handle).toMatch(/^[0-9a-f]{32}$/);
      expect(esMatched.get(k)?.handle).toBe(ptMatched.get(k)?.handle);
      expect(esMatched.get(k)?.firstSeen).toBe(h.clock.now.toISOString());
    }
    expect(new Set([...esMatched.values()].map((v) => v.handle)).size).toBe(expected.length);
    const st = await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(st.body.state).toBe('complete');
    expect(st.body.mine).toMatchObject({ size: es.items.length + 24, canariesRegistered: true, tokenizedByPartner: 3 });
    expect(st.body.partner).toMatchObject({ size: pt.items.length + 24, tokenizedByMe: 4 });
    const audit = await h.store.readAudit(0, 100_000);
    expect(audit.filter((e) => e.action === 'pair.complete')).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'results.served').length).toBeGreaterThan(0);
    expect(verifyAuditChain(audit)).toEqual({ ok: true, count: audit.length });
  });

  it('count: each side learns only the number of matches', async () => {
    await run('count');
    for (const a of [es, pt]) {
      const r = (await a.results()).pairs[0];
      expect(r).toEqual({ pair: PAIR, agreement: 'es-pt', partner: a === es ? 'PT-PJ' : 'ES-CNP', mode: 'count', state: 'complete', count: shared.length, countTakenAt: h.clock.now.toISOString() });
    }
  });

  it('a partner tokenising with another key fails the canary check for both sides, loudly', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, es.items, 24, 100);
    await pt.upload(PAIR, es.kp.pk, pt.items, 24, 64);
    expect(await es.work()).toBe(4);
    // The first chunk carrying a canary fails the pair; the remaining chunks are refused.
    expect(await pt.work(epochKeyPair().sk)).toBeLessThan(3);
    const reason = (await es.results()).pairs[0].reason as string;
    const m = /^canary check failed: (\d+) of (\d+) canaries in ES-CNP's side did not match$/.exec(reason);
    expect(m).not.toBeNull();
    expect(m?.[1]).toBe(m?.[2]);
    const n = Number(m?.[1]);
    expect(n).toBeGreaterThan(0);
    for (const a of [es, pt]) {
      const r = (await a.results()).pairs[0];
      expect(r).toEqual({ pair: PAIR, agreement: 'es-pt', partner: a === es ? 'PT-PJ' : 'ES-CNP', mode: 'reveal', state: 'failed', reason });
      const st = await h.json(a.signer, 'GET', `/v1/pairs/${PAIR}/status`);
      expect(st.body).toMatchObject({ state: 'failed', reason });
    }
    const audit = await h.store.readAudit(0, 100_000);
    const failed = audit.filter((e) => e.action === 'pair.canary_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ subject: PAIR, actor: 'coordinator', outcome: 'failed', detail: { epoch: 'e1', side: 'ES-CNP', failed: n, checked: n } });
    // Sticky: nothing more flows for this pair in the epoch.
    expect((await h.json(es.signer, 'GET', '/v1/work')).body.tasks).toEqual([]);
    expect((await h.json(pt.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/0`)).status).toBe(409);
  });

  it('canaries registered after the tokens arrived are checked at registration', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await es.publish();
    await pt.publish();
    const c = makeCanary(CONCORDAT_SUITE, pt.kp.pk, randomBytes);
    await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: c.element });
    await pt.work(epochKeyPair().sk);
    const r = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 0, token: bytesToHex(c.expectedToken) }] } });
    expect(r.status).toBe(200);
    const st = await h.json(pt.signer, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(st.body).toMatchObject({ state: 'failed', reason: "canary check failed: 1 of 1 canaries in ES-CNP's side did not match" });
  });

  it('a chunk uploaded after canaries/done keeps the pair waiting until the side calls canaries/done again (protocol/SPEC.md §1.6)', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, es.items, 24, 100);
    await pt.upload(PAIR, es.kp.pk, pt.items, 24, 64);
    await es.work();
    await pt.work();
    const status = async () => (await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/status`)).body;
    const first = await status();
    expect(first).toMatchObject({ state: 'complete', mine: { canariesRegistered: true } });
    const before = first.mine.chunks.length as number;

    // A later night: ES uploads one more chunk, two new identifiers shuffled with three canaries for PT's key.
    const added = emails('es.later', 2, 'policia.example');
    const blinded = engine.blind(CONCORDAT_SUITE, es.kp.sk, added.map((i) => identifierInput(i.kind, i.canonical)));
    const canaries = [0, 1, 2].map(() => makeCanary(CONCORDAT_SUITE, pt.kp.pk, randomBytes));
    const body = new Uint8Array(5 * 32);
    body.set(canaries[0]?.element as Uint8Array, 0);
    body.set(blinded.subarray(0, 32), 32);
    body.set(canaries[1]?.element as Uint8Array, 64);
    body.set(blinded.subarray(32, 64), 96);
    body.set(canaries[2]?.element as Uint8Array, 128);
    const put = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/${before}`, { body });
    expect(put.status).toBe(201);
    const at = put.body.firstPosition as number;

    // PT tokenises it: every chunk has tokens, yet ES's last canaries/done covered only the chunks before it.
    expect(await pt.work()).toBe(1);
    const open = await status();
    expect(open.state).toBe('waiting');
    expect(open.mine).toMatchObject({ canariesRegistered: false, canaryChunks: before, tokenizedByPartner: before + 1 });
    expect((await es.results()).pairs[0].state).toBe('waiting');

    // Registering the canaries alone does not finish the side; canaries/done does, and covers the new chunk.
    const reg = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, {
      body: { canaries: [0, 2, 4].map((o, j) => ({ position: at + o, token: bytesToHex(canaries[j]?.expectedToken as Uint8Array) })) },
    });
    expect(reg.status).toBe(200);
    expect((await status()).state).toBe('waiting');
    expect((await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/canaries/done`, { body: {} })).status).toBe(200);
    expect(await status()).toMatchObject({ state: 'complete', mine: { canariesRegistered: true, canaryChunks: before + 1 } });
    // Calling it again changes nothing and audits nothing more.
    const dones = async () => (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'canaries.done' && e.actor === 'ES-CNP').length;
    const n = await dones();
    expect(n).toBe(2);
    expect((await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/canaries/done`, { body: {} })).status).toBe(200);
    expect(await dones()).toBe(n);
  });

  it('removals retract matches; re-adding restores the same handle and first-seen time', async () => {
    await run('reveal');
    const before = es.matchedItems((await es.results()).pairs[0]);
    const target = `${shared[0]?.kind}:${shared[0]?.canonical}`;
    const was = before.get(target);
    expect(was).toBeDefined();
    const t1 = h.clock.now.toISOString();
    h.clock.now = new Date(h.clock.now.getTime() + 3_600_000);

    const rm = await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [was?.position] } });
    expect(rm).toEqual({ status: 200, body: { removed: 1 } });
    const esAfter = es.matchedItems((await es.results()).pairs[0]);
    const ptAfter = pt.matchedItems((await pt.results()).pairs[0]);
    expect(esAfter.has(target)).toBe(false);
    expect(ptAfter.has(target)).toBe(false);
    expect(esAfter.size).toBe(shared.length - 1);

    // Nightly delta: re-add the same record; the partner tokenises only the new chunk.
    await es.upload(PAIR, pt.kp.pk, [shared[0] as Item], 2, 100);
    expect((await es.results()).pairs[0].state).toBe('waiting');
    expect(await pt.work()).toBe(1);
    const esBack = es.matchedItems((await es.results()).pairs[0]);
    const ptBack = pt.matchedItems((await pt.results()).pairs[0]);
    expect(esBack.get(target)?.handle).toBe(was?.handle);
    expect(esBack.get(target)?.firstSeen).toBe(t1);
    expect(esBack.get(target)?.position).toBeGreaterThanOrEqual(es.items.length + 24);
    expect(ptBack.get(target)?.handle).toBe(was?.handle);
    expect(esBack.size).toBe(shared.length);
  });

  it('removals before the partner tokenises keep the position from ever matching', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    expect((await h.json(pt.signer, 'GET', '/v1/work')).body.tasks).toEqual([]);
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, es.items, 8, 100);
    await pt.upload(PAIR, es.kp.pk, pt.items, 8, 100);
    const target = shared[1] as Item;
    const position = es.slots.findIndex((s) => s.type === 'item' && s.item === target);
    expect((await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [position] } })).status).toBe(200);
    await es.work();
    await pt.work();
    const esRes = es.matchedItems((await es.results()).pairs[0]);
    expect(esRes.size).toBe(shared.length - 1);
    expect(esRes.has(`${target.kind}:${target.canonical}`)).toBe(false);
    const actions = new Set((await h.store.readAudit(0, 100_000)).map((e) => e.action));
    for (const a of ['epoch_key.published', 'chunk.stored', 'canaries.registered', 'canaries.done', 'removals.applied', 'partner_set.served', 'tokens.stored', 'pair.complete', 'results.served']) {
      expect(actions.has(a), a).toBe(true);
    }
  });

  it('stores no identifier in any table, of the control plane or of the pair', async () => {
    await run('reveal');
    await es.results();
    const needles: [string, string][] = [];
    for (const it of [...es.items, ...pt.items]) {
      for (const text of [it.raw.trim(), it.canonical, it.canonical.toUpperCase()]) needles.push([text, latin1(utf8(text))]);
      needles.push([`${it.kind} input`, latin1(identifierInput(it.kind, it.canonical))]);
    }
    const found: string[] = [];
    const scan = async (where: string, rows: (sql: string) => Promise<Row[]>) => {
      const tables = (await rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")).map((r) => String(r.name));
      expect(tables).toContain('tokens');
      let cells = 0;
      for (const t of tables) {
        for (const row of await rows(`SELECT * FROM "${t}"`)) {
          for (const v of Object.values(row)) {
            const hay = latin1(cellBytes(v));
            cells++;
            for (const [what, n] of needles) if (hay.includes(n)) found.push(`${what} in ${where}.${t}`);
          }
        }
      }
      return cells;
    };
    expect(await scan('control plane', (sql) => h.controlRows(sql))).toBeGreaterThan(0);
    expect(await scan('pair', (sql) => h.pairRows(PAIR, sql))).toBeGreaterThan(1000);
    expect(found).toEqual([]);
  });
});

/** A table cell as bytes: text as UTF-8, BLOBs as they come from the driver. */
function cellBytes(v: unknown): Uint8Array {
  if (v === null || v === undefined) return new Uint8Array(0);
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return utf8(String(v));
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw new Error(`unexpected cell ${typeof v}`);
}

/** Bytes as a string of the same length, one character per byte, for fast substring search. */
function latin1(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 8192) out += String.fromCharCode(...b.subarray(i, i + 8192));
  return out;
}

describe('three agencies, one agreement', () => {
  it('keeps every pair separate and shows each agency only its own pairs', async () => {
    const h = await makeHarness();
    try {
      const common = emails('everyone', 5, 'example.net');
      const esFr = emails('es.fr', 3, 'example.net');
      const a = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), [...common, ...esFr, ...emails('es', 40, 'x.example')]);
      const b = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), [...common, ...emails('pt', 30, 'x.example')]);
      const c = new SimAgency(h, await h.addAgency('FR-OCRTEH', 'FRA'), [...common, ...esFr, ...emails('fr', 20, 'x.example')]);
      await addAgreement(h, { id: 'trio', parties: ['ES-CNP', 'PT-PJ', 'FR-OCRTEH'] });
      for (const x of [a, b, c]) await x.publish();
      const pairs: [SimAgency, SimAgency][] = [
        [a, b],
        [a, c],
        [b, c],
      ];
      // One SimAgency keeps one position map per pair in real clients; here each pair gets fresh sims sharing keys.
      const sims = new Map<string, SimAgency>();
      for (const [x, y] of pairs) {
        const id = [x.id, y.id].sort();
        const pair = `trio~${id[0]}~${id[1]}`;
        for (const [me, other] of [
          [x, y],
          [y, x],
        ] as const) {
          const s = new SimAgency(h, me.signer, me.items);
          (s as { kp: KeyPair }).kp = me.kp;
          sims.set(`${pair}|${me.id}`, s);
          await s.upload(pair, other.kp.pk, me.items, 4, 1000);
        }
      }
      for (const x of [a, b, c]) await x.work();
      const resultsOf = async (x: SimAgency) => (await x.results()).pairs as { pair: string; matches: { position: number; handle: string; firstSeen: string }[] }[];
      const ra = await resultsOf(a);
      expect(ra.map((p) => p.pair)).toEqual(['trio~ES-CNP~FR-OCRTEH', 'trio~ES-CNP~PT-PJ']);
      const count = (x: SimAgency, pair: string, list: typeof ra) =>
        (sims.get(`${pair}|${x.id}`) as SimAgency).matchedItems(list.find((p) => p.pair === pair) as (typeof ra)[number]).size;
      expect(count(a, 'trio~ES-CNP~PT-PJ', ra)).toBe(5);
      expect(count(a, 'trio~ES-CNP~FR-OCRTEH', ra)).toBe(8);
      const rb = await resultsOf(b);
      expect(rb.map((p) => p.pair)).toEqual(['trio~ES-CNP~PT-PJ', 'trio~FR-OCRTEH~PT-PJ']);
      expect(count(b, 'trio~FR-OCRTEH~PT-PJ', rb)).toBe(5);
      // Handles are per pair: the same person has a different handle in every pair.
      const handlesA = ra.flatMap((p) => p.matches.map((m) => m.handle));
      expect(new Set(handlesA).size).toBe(handlesA.length);
    } finally {
      await h.close();
    }
  });
});
