// A minimal agency client for the coordinator tests: blinds real identifiers
// with the protocol engines, uploads them in chunks with canaries, tokenises
// the partner's side (keeping those tokens, as a real client does for
// targeted queries), and asks and answers targeted queries.
import { expect } from 'vitest';
import { bytesToHex, hexToBytes } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES, TOKEN_BYTES } from '../protocol/constants.js';
import type { Engine } from '../protocol/engine/index.js';
import { canonicalize, identifierInput, type IdentifierKind } from '../protocol/identifiers/index.js';
import type { KeyPair } from '../protocol/keys.js';
import { blindQuery, finishQuery, type BlindedQuery } from '../protocol/query.js';
import { hitEvidence } from '../protocol/hit-evidence.js';
import { randomBytes } from '../protocol/rng.js';
import { makeCanary } from '../protocol/token.js';
import { epochKeyPair, publishKey, shuffle, type Harness, type Signer } from './coordinator-harness.js';

export interface Item {
  kind: IdentifierKind;
  raw: string;
  canonical: string;
}

export function item(kind: IdentifierKind, raw: string): Item {
  return { kind, raw, canonical: canonicalize(kind, raw) };
}

export function emails(prefix: string, n: number, domain: string): Item[] {
  return Array.from({ length: n }, (_, i) => item('email', `${prefix}.${i}@${domain}`));
}

export function keyOf(it: Item): string {
  return `${it.kind}:${it.canonical}`;
}

/** One hit of POST /v1/queries/{id}/outcome: value index and its evidence, hex. */
export interface HitEvidenceHex {
  index: number;
  element: string;
  blindPublic: string;
  proof: string;
}

/** The evidence of a hit on value `index` of a query (protocol/SPEC.md §8.11). */
export function evidenceHex(q: BlindedQuery, evaluated: readonly string[], index: number): HitEvidenceHex {
  const ev = hitEvidence(CONCORDAT_SUITE, q.blinds[index] as Uint8Array, hexToBytes(evaluated[index] as string), randomBytes);
  return { index, element: bytesToHex(ev.element), blindPublic: bytesToHex(ev.blindPublic), proof: bytesToHex(ev.proof) };
}

export type Slot = { type: 'item'; item: Item } | { type: 'canary'; token: Uint8Array };

export interface MatchEntry {
  position: number;
  handle: string;
  firstSeen: string;
}

/** The local side of an agency client for one pair: its position map stays here. */
export class SimAgency {
  kp: KeyPair;
  epoch = 'e1';
  readonly seed: Uint8Array;
  slots: Slot[] = [];
  chunksSent = 0;
  /** Tokens this agency computed of each partner side, per pair (what a client checks query answers against). */
  partnerTokens = new Map<string, Set<string>>();
  /** Send the `Concordat-Epoch` header on uploads. */
  epochHeader = true;

  constructor(
    readonly h: Harness,
    readonly engine: Engine,
    readonly signer: Signer,
    readonly items: Item[],
  ) {
    this.seed = randomBytes(32);
    this.kp = epochKeyPair('e1', this.seed);
  }

  get id(): string {
    return this.signer.keyid;
  }

  /** Move to a new epoch: a new key from the same seed, a fresh position map. */
  enterEpoch(epoch: string): void {
    this.epoch = epoch;
    this.kp = epochKeyPair(epoch, this.seed);
    this.slots = [];
    this.chunksSent = 0;
    this.partnerTokens = new Map();
  }

  private headers(): Record<string, string> {
    return this.epochHeader ? { 'Concordat-Epoch': this.epoch } : {};
  }

  async publish(): Promise<void> {
    await publishKey(this.h, this.signer, this.kp, this.epoch);
  }

  /** Blind the items, mix in canaries for the partner key, upload in chunks. */
  async upload(pair: string, partnerPk: Uint8Array, items: Item[], canaries: number, chunkSize: number): Promise<void> {
    const blinded = this.engine.blind(
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
      const r = await this.h.json(this.signer, 'PUT', `/v1/pairs/${pair}/set/chunks/${this.chunksSent}`, { body, headers: this.headers() });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.firstPosition).toBe(start + o);
      this.chunksSent++;
    }
    this.slots.push(...order.map((p) => p.slot));
    const canaryList = this.slots
      .map((s, position) => (s.type === 'canary' && position >= start ? { position, token: bytesToHex(s.token) } : undefined))
      .filter((x) => x !== undefined);
    const r = await this.h.json(this.signer, 'PUT', `/v1/pairs/${pair}/set/canaries`, { body: { canaries: canaryList }, headers: this.headers() });
    expect(r.status).toBe(200);
    expect((await this.h.json(this.signer, 'POST', `/v1/pairs/${pair}/set/canaries/done`, { body: {}, headers: this.headers() })).status).toBe(200);
  }

  /** Do every pending partner task, optionally with a key other than the published one. */
  async work(sk: Uint8Array = this.kp.sk): Promise<number> {
    const { body } = await this.h.json(this.signer, 'GET', '/v1/work');
    let done = 0;
    for (const t of body.tasks as { pair: string; epoch: string; index: number; count: number }[]) {
      expect(t.epoch).toBe(this.epoch);
      const res = await this.h.send(this.signer, 'GET', `/v1/pairs/${t.pair}/partner-set/chunks/${t.index}`, { headers: this.headers() });
      // A pair that failed its canary check releases nothing more.
      if (res.status === 409) continue;
      expect(res.status).toBe(200);
      const elements = new Uint8Array(await res.arrayBuffer());
      expect(elements.length).toBe(t.count * ELEMENT_BYTES);
      const tokens = this.engine.tokenize(CONCORDAT_SUITE, sk, elements);
      const known = this.partnerTokens.get(t.pair) ?? new Set<string>();
      for (let i = 0; i < t.count; i++) known.add(bytesToHex(tokens.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES)));
      this.partnerTokens.set(t.pair, known);
      const up = await this.h.json(this.signer, 'PUT', `/v1/pairs/${t.pair}/partner-set/chunks/${t.index}/tokens`, { body: tokens, headers: this.headers() });
      expect(up.status, JSON.stringify(this.h.logs.filter((l) => l.error).slice(-1))).toBe(201);
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

  /** Matched local records (by kind:canonical) with their handles. */
  matchedItems(pairResult: { matches: MatchEntry[] }): Map<string, MatchEntry> {
    const out = new Map<string, MatchEntry>();
    for (const m of pairResult.matches) {
      const slot = this.slots[m.position];
      expect(slot?.type).toBe('item');
      if (slot?.type === 'item') out.set(keyOf(slot.item), m);
    }
    return out;
  }

  /** Position of an item in this agency's current side. */
  positionOf(it: Item): number {
    return this.slots.findIndex((s) => s.type === 'item' && keyOf(s.item) === keyOf(it));
  }

  /** Blind values for a targeted query (fresh r per value). */
  blindQuery(values: Item[]): BlindedQuery {
    return blindQuery(
      CONCORDAT_SUITE,
      this.engine,
      values.map((v) => identifierInput(v.kind, v.canonical)),
      randomBytes,
    );
  }

  /** Responder: evaluate a query's blinded values with this epoch's key (or another one) and prove it. */
  answer(blinded: string[], sk: Uint8Array = this.kp.sk): { evaluated: string[]; proof: string } {
    const r = this.engine.evaluateWithProof(CONCORDAT_SUITE, sk, blinded.map((b) => hexToBytes(b)), randomBytes);
    return { evaluated: r.evaluated.map(bytesToHex), proof: bytesToHex(r.proof) };
  }

  /** Requester: verify, unblind and tokenise an answer; per value its token and whether the partner side's tokens hold it. */
  finish(pair: string, q: BlindedQuery, leg: { partnerEpochKey: { publicKey: string }; evaluated: string[]; proof: string }): { tokens: string[]; hit: boolean[] } {
    const tokens = finishQuery(
      CONCORDAT_SUITE,
      this.engine,
      q,
      hexToBytes(leg.partnerEpochKey.publicKey),
      leg.evaluated.map((e) => hexToBytes(e)),
      hexToBytes(leg.proof),
      this.kp.sk,
    ).map(bytesToHex);
    const known = this.partnerTokens.get(pair) ?? new Set<string>();
    return { tokens, hit: tokens.map((t) => known.has(t)) };
  }

  /** Requester: the outcome of a leg, each hit with its protocol/SPEC.md §8.11 evidence. */
  conclude(pair: string, q: BlindedQuery, leg: { partnerEpochKey: { publicKey: string }; evaluated: string[]; proof: string }): { hits: HitEvidenceHex[]; noHits: number } {
    const { hit } = this.finish(pair, q, leg);
    const hits = hit.flatMap((h, index) => (h ? [evidenceHex(q, leg.evaluated, index)] : []));
    return { hits, noHits: hit.length - hits.length };
  }

}
