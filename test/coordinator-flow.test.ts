// End-to-end nightly overlap checks with real blinded data: two and three
// agencies, planted overlaps, canaries, a dishonest partner, removals.
import { readFileSync, existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../protocol/constants.js';
import { loadFastEngine, type Engine } from '../protocol/engine/index.js';
import { canonicalize, identifierInput, type IdentifierKind } from '../protocol/identifiers/index.js';
import type { KeyPair } from '../protocol/keys.js';
import { randomBytes } from '../protocol/rng.js';
import { makeCanary } from '../protocol/token.js';
import { verifyAuditChain } from '../src/audit.js';
import { addAgreement, epochKeyPair, makeHarness, publishKey, shuffle, type Harness, type Signer } from './coordinator-harness.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadFastEngine();
});

interface Item {
  kind: IdentifierKind;
  raw: string;
  canonical: string;
}

function item(kind: IdentifierKind, raw: string): Item {
  return { kind, raw, canonical: canonicalize(kind, raw) };
}

type Slot = { type: 'item'; item: Item } | { type: 'canary'; token: Uint8Array };

/** The local side of an agency client for one pair: its position map stays here. */
class SimAgency {
  readonly kp: KeyPair;
  slots: Slot[] = [];
  chunksSent = 0;
  constructor(
    readonly h: Harness,
    readonly signer: Signer,
    readonly items: Item[],
  ) {
    this.kp = epochKeyPair();
  }

  get id(): string {
    return this.signer.keyid;
  }

  async publish(): Promise<void> {
    await publishKey(this.h, this.signer, this.kp);
  }

  /** Blind the items, mix in canaries for the partner key, upload in chunks. */
  async upload(pair: string, partnerPk: Uint8Array, items: Item[], canaries: number, chunkSize: number): Promise<void> {
    const blinded = engine.blind(
      CONCORDAT_SUITE,
      this.kp.sk,
      items.map((i) => identifierInput(i.kind, i.canonical)),
    );
    const fresh: { slot: Slot; element: Uint8Array }[] = items.map((it, i) => ({
      slot: { type: 'item', item: it },
      element: blinded.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
    }));
    for (let i = 0; i < canaries; i++) {
      const c = makeCanary(CONCORDAT_SUITE, partnerPk, randomBytes);
      fresh.push({ slot: { type: 'canary', token: c.expectedToken }, element: c.element });
    }
    const order = shuffle(fresh);
    const start = this.slots.length;
    for (let o = 0; o < order.length; o += chunkSize) {
      const part = order.slice(o, o + chunkSize);
      const body = new Uint8Array(part.length * ELEMENT_BYTES);
      part.forEach((p, i) => body.set(p.element, i * ELEMENT_BYTES));
      const r = await this.h.json(this.signer, 'PUT', `/v1/pairs/${pair}/set/chunks/${this.chunksSent}`, { body });
      expect(r.status).toBe(201);
      expect(r.body.firstPosition).toBe(start + o);
      this.chunksSent++;
    }
    this.slots.push(...order.map((p) => p.slot));
    const canaryList = this.slots
      .map((s, position) => (s.type === 'canary' && position >= start ? { position, token: bytesToHex(s.token) } : undefined))
      .filter((x) => x !== undefined);
    const r = await this.h.json(this.signer, 'PUT', `/v1/pairs/${pair}/set/canaries`, { body: { canaries: canaryList } });
    expect(r.status).toBe(200);
    expect((await this.h.json(this.signer, 'POST', `/v1/pairs/${pair}/set/canaries/done`, { body: {} })).status).toBe(200);
  }

  /** Do every pending partner task, optionally with a key other than the published one. */
  async work(sk: Uint8Array = this.kp.sk): Promise<number> {
    const { body } = await this.h.json(this.signer, 'GET', '/v1/work');
    let done = 0;
    for (const t of body.tasks as { pair: string; index: number; count: number }[]) {
      const res = await this.h.send(this.signer, 'GET', `/v1/pairs/${t.pair}/partner-set/chunks/${t.index}`);
      // A pair that failed its canary check releases nothing more.
      if (res.status === 409) continue;
      expect(res.status).toBe(200);
      const elements = new Uint8Array(await res.arrayBuffer());
      expect(elements.length).toBe(t.count * ELEMENT_BYTES);
      const tokens = engine.tokenize(CONCORDAT_SUITE, sk, elements);
      const up = await this.h.json(this.signer, 'PUT', `/v1/pairs/${t.pair}/partner-set/chunks/${t.index}/tokens`, { body: tokens });
      expect(up.status).toBe(201);
      expect(Object.keys(up.body).sort()).toEqual(['count', 'index', 'sha256']);
      done++;
    }
    return done;
  }

  async results(): Promise<any> {
    const r = await this.h.json(this.signer, 'GET', '/v1/results');
    expect(r.status).toBe(200);
    return r.body;
  }

  /** Matched local records (by canonical value) with their handles. */
  matchedItems(pairResult: { matches: { position: number; handle: string; firstSeen: string }[] }): Map<string, { handle: string; firstSeen: string; position: number }> {
    const out = new Map<string, { handle: string; firstSeen: string; position: number }>();
    for (const m of pairResult.matches) {
      const slot = this.slots[m.position];
      expect(slot?.type).toBe('item');
      if (slot?.type === 'item') out.set(`${slot.item.kind}:${slot.item.canonical}`, { handle: m.handle, firstSeen: m.firstSeen, position: m.position });
    }
    return out;
  }
}

function emails(prefix: string, n: number, domain: string): Item[] {
  return Array.from({ length: n }, (_, i) => item('email', `${prefix}.${i}@${domain}`));
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
      expect(r).toEqual({ pair: PAIR, agreement: 'es-pt', partner: a === es ? 'PT-PJ' : 'ES-CNP', mode: 'count', state: 'complete', count: shared.length });
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

  it('stores no identifier anywhere in the database file', async () => {
    await run('reveal');
    await es.results();
    const dbPath = h.dbPath;
    await h.store.close();
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((f) => existsSync(f));
    const needles = new Set<string>();
    for (const it of [...es.items, ...pt.items]) {
      needles.add(it.raw);
      needles.add(it.raw.trim());
      needles.add(it.canonical);
    }
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const n of needles) {
        expect(bytes.indexOf(Buffer.from(utf8(n))), `${n} in ${f}`).toBe(-1);
        expect(bytes.indexOf(Buffer.from(utf8(n.toUpperCase()))), `${n} in ${f}`).toBe(-1);
      }
      for (const it of [...es.items, ...pt.items]) {
        expect(bytes.indexOf(Buffer.from(identifierInput(it.kind, it.canonical)))).toBe(-1);
      }
    }
  });
});

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
