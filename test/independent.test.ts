// An independent implementation of Concordat PSI (the v1 and v2 core vectors) and of the v2 keys and
// signed structures, written from protocol/SPEC.md alone: libsodium for the
// group and Ed25519, node:crypto for SHA-512 and SHA-256, a small RFC 8785
// serialiser of its own, and none of protocol/'s code. It must reproduce
// every vector.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, test } from 'vitest';

type V = {
  suite: string;
  hashToGroup: Array<{ input: string; element: string }>;
  deriveKeyPair: Array<{ seed: string; info: string; sk: string; pk: string }>;
  evaluate: Array<{ sk: string; element: string; result: string }>;
  token: Array<{ element: string; token: string }>;
  pairs: Array<{ kind: string; canonical: string; input: string; skA: string; skB: string; blindedA: string; blindedB: string; doubleAB: string; token: string }>;
  proofs: Array<{ sk: string; pk: string; blinded: string[]; evaluated: string[]; proofRandomScalar: string; proof: string }>;
};
const B = (s: string | Uint8Array): Buffer => (typeof s === 'string' ? Buffer.from(s, 'hex') : Buffer.from(s));
const A = (s: string): Buffer => Buffer.from(s, 'ascii');
const sha512 = (...parts: Uint8Array[]): Buffer => createHash('sha512').update(Buffer.concat(parts)).digest();
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const lp = (x: Uint8Array): Buffer => Buffer.concat([u16(x.length), x]);

// RFC 9380 §5.3.1 expand_message_xmd, SHA-512 (b = 64, r = 128 bytes).
function xmd(msg: Uint8Array, dst: Uint8Array, len: number): Buffer {
  const ell = Math.ceil(len / 64);
  const dstPrime = Buffer.concat([dst, Buffer.from([dst.length])]);
  const b0 = sha512(Buffer.alloc(128), msg, u16(len), Buffer.from([0]), dstPrime);
  const out: Buffer[] = [sha512(b0, Buffer.from([1]), dstPrime)];
  for (let i = 2; i <= ell; i++) {
    const prev = out[out.length - 1]!;
    const x = Buffer.alloc(64);
    for (let j = 0; j < 64; j++) x[j] = b0[j]! ^ prev[j]!;
    out.push(sha512(x, Buffer.from([i]), dstPrime));
  }
  return Buffer.concat(out).subarray(0, len);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** RFC 9497 §4.1 HashToScalar with an explicit DST (the per-context helpers below default it). */
const h2s = (x: Uint8Array, dst: Uint8Array): Uint8Array => sodium.crypto_core_ristretto255_scalar_reduce(xmd(x, dst, 64));

beforeAll(async () => {
  await sodium.ready;
});

// The core constructions (§1) under each context string: v1's file and the v2
// file of the protocol in use must both be reproduced.
describe.each([
  ['vectors/concordat-v1.json', 'CONCORDAT-V1-ristretto255-SHA512'],
  ['vectors/concordat-v2-psi.json', 'CONCORDAT-V2-ristretto255-SHA512'],
])('%s', (path, context) => {
  const v = JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')) as V;
  const CTX = A(context);
  const h2g = (x: Uint8Array): Uint8Array => sodium.crypto_core_ristretto255_from_hash(xmd(x, Buffer.concat([A('HashToGroup-'), CTX]), 64));
  const h2s = (x: Uint8Array, dst = Buffer.concat([A('HashToScalar-'), CTX])): Uint8Array => sodium.crypto_core_ristretto255_scalar_reduce(xmd(x, dst, 64));
  const mul = (k: Uint8Array, p: Uint8Array): Uint8Array => sodium.crypto_scalarmult_ristretto255(k, p);
  const token = (e: Uint8Array): Buffer => sha512(A('Token-'), CTX, e).subarray(0, 16);

  test('suite', () => expect(v.suite).toBe(CTX.toString()));

  test('HashToGroup', () => {
    for (const t of v.hashToGroup) expect(hex(h2g(B(t.input)))).toBe(t.element);
  });

  test('DeriveKeyPair (RFC 9497 §3.2.1 with the Concordat context)', () => {
    for (const t of v.deriveKeyPair) {
      const info = B(t.info);
      const input = Buffer.concat([B(t.seed), u16(info.length), info]);
      let sk: Uint8Array = new Uint8Array(32);
      for (let counter = 0; sk.every((b) => b === 0); counter++) sk = h2s(Buffer.concat([input, Buffer.from([counter])]), Buffer.concat([A('DeriveKeyPair'), CTX]));
      expect(hex(sk)).toBe(t.sk);
      expect(hex(sodium.crypto_scalarmult_ristretto255_base(sk))).toBe(t.pk);
    }
  });

  test('Evaluate and Token', () => {
    for (const t of v.evaluate) expect(hex(mul(B(t.sk), B(t.element)))).toBe(t.result);
    for (const t of v.token) expect(hex(token(B(t.element)))).toBe(t.token);
  });

  test('pairs: Input, both blindings, the double blinding and its token', () => {
    for (const t of v.pairs) {
      const input = Buffer.concat([A(t.kind), Buffer.from([0]), Buffer.from(t.canonical, 'utf8')]);
      expect(hex(input)).toBe(t.input);
      const P = h2g(input);
      expect(hex(mul(B(t.skA), P))).toBe(t.blindedA);
      expect(hex(mul(B(t.skB), P))).toBe(t.blindedB);
      expect(hex(mul(B(t.skB), B(t.blindedA)))).toBe(t.doubleAB);
      expect(hex(mul(B(t.skA), B(t.blindedB)))).toBe(t.doubleAB);
      expect(hex(token(B(t.doubleAB)))).toBe(t.token);
    }
  });

  test('batched DLEQ proofs (RFC 9497 §2.2 with the Concordat context)', () => {
    for (const t of v.proofs) {
      const k = B(t.sk);
      const pk = B(t.pk);
      const seed = sha512(lp(pk), lp(Buffer.concat([A('Seed-'), CTX])));
      let M: Uint8Array | undefined;
      t.blinded.forEach((c, i) => {
        const d = h2s(Buffer.concat([lp(seed), u16(i), lp(B(c)), lp(B(t.evaluated[i]!)), A('Composite')]));
        const term = mul(d, B(c));
        M = M ? sodium.crypto_core_ristretto255_add(M, term) : term;
      });
      const Z = mul(k, M!);
      const r = B(t.proofRandomScalar);
      const t2 = sodium.crypto_scalarmult_ristretto255_base(r);
      const t3 = mul(r, M!);
      const c = h2s(Buffer.concat([lp(pk), lp(M!), lp(Z), lp(t2), lp(t3), A('Challenge')]));
      const s = sodium.crypto_core_ristretto255_scalar_sub(r, sodium.crypto_core_ristretto255_scalar_mul(c, k));
      expect(hex(Buffer.concat([c, s]))).toBe(t.proof);
    }
  });
});

// ---- Concordat PSI v2 (protocol/SPEC.md §8) ----

type V2 = {
  suite: string;
  canonical: Array<{ json: string; canonical: string } | { json: string; error: { path: string; rule: string } }>;
  ratchet: Array<{ from: number; secret: string; to: number; result: string }>;
  pairKeys: Array<{ secret: string; epoch: string; pair: string; info: string; sk: string; pk: string }>;
  signed: Array<{
    name: string;
    type: string;
    signer: string;
    document: Record<string, unknown>;
    canonical: string;
    signingInput: string;
    secretKey: string;
    publicKey: string;
    signature: string;
    fingerprint: string;
    digest?: string;
    elements?: string[];
  }>;
  hitEvidence: Array<{
    input: string;
    responderSk: string;
    blind: string;
    blinded: string;
    evaluated: string;
    element: string;
    blindPublic: string;
    proofRandomScalar: string;
    proof: string;
  }>;
};
const v2 = JSON.parse(readFileSync(new URL('../vectors/concordat-v2.json', import.meta.url), 'utf8')) as V2;
const CTX2 = A('CONCORDAT-V2-ristretto255-SHA512');
const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

// §8.2: the accepted subset, with the path notation of the vectors.
class Refused extends Error {
  constructor(
    readonly path: string,
    readonly rule: string,
  ) {
    super(`${rule} at ${path}`);
  }
}
function isLoneSurrogateAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    return !(d >= 0xdc00 && d <= 0xdfff);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const b = i > 0 ? s.charCodeAt(i - 1) : 0;
    return !(b >= 0xd800 && b <= 0xdbff);
  }
  return false;
}
const wellFormed = (s: string): boolean => [...Array(s.length).keys()].every((i) => !isLoneSurrogateAt(s, i));
const keyPath = (path: string, k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`);
function validate(v: unknown, path: string): void {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Refused(path, 'not-integer');
    if (Math.abs(v) > 2 ** 53 - 1) throw new Refused(path, 'unsafe-integer');
    if (v === 0 && 1 / v < 0) throw new Refused(path, 'negative-zero');
  } else if (typeof v === 'string') {
    if (!wellFormed(v)) throw new Refused(path, 'lone-surrogate');
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => validate(x, `${path}[${i}]`));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (!wellFormed(k)) throw new Refused(keyPath(path, k), 'lone-surrogate');
      validate(x, keyPath(path, k));
    }
  } else if (typeof v !== 'boolean' && v !== null) throw new Refused(path, 'type');
}

// RFC 8785 §3.2.2.2: only '"', '\' and C0 controls are escaped, with the short
// forms where JSON has them and \u00xx (lower case) otherwise.
function quote(s: string): string {
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += short[c] ?? (c < 0x20 ? `\\u${c.toString(16).padStart(4, '0')}` : s[i]);
  }
  return `${out}"`;
}
// RFC 8785 §3.2.3: member names sorted by their UTF-16 code units.
function byCodeUnits(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
function jcs(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // Safe integers only (§8.2): their ECMAScript serialisation is the plain decimal.
  if (typeof v === 'number') return v < 0 ? `-${(-v).toFixed(0)}` : v.toFixed(0);
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort(byCodeUnits)
    .map((k) => `${quote(k)}:${jcs(o[k])}`)
    .join(',')}}`;
}
const canonical = (v: unknown): Buffer => {
  validate(v, '');
  return Buffer.from(jcs(v), 'utf8');
};

describe('Concordat PSI v2 (§8)', () => {
  test('suite', () => expect(v2.suite).toBe(CTX2.toString()));

  test('§8.2 canonical JSON: accepted inputs give the canonical bytes, refused ones the path and rule', () => {
    for (const t of v2.canonical) {
      const value: unknown = JSON.parse(t.json);
      if ('canonical' in t) expect(canonical(value).toString('hex'), t.json).toBe(t.canonical);
      else expect(() => canonical(value), t.json).toThrow(new Refused(t.error.path, t.error.rule).message);
    }
  });

  test('§8.4 ratchet', () => {
    for (const t of v2.ratchet) {
      let s = B(t.secret);
      for (let n = t.from; n < t.to; n++) s = sha512(A('Ratchet-'), CTX2, s).subarray(0, 32);
      expect(hex(s)).toBe(t.result);
    }
  });

  test('§8.5 pair keys: DeriveKeyPair(s_n, "PairKey-" ‖ ctx ‖ LP(epoch) ‖ LP(pair))', () => {
    const dst = Buffer.concat([A('DeriveKeyPair'), CTX2]);
    for (const t of v2.pairKeys) {
      const info = Buffer.concat([A('PairKey-'), CTX2, lp(Buffer.from(t.epoch, 'utf8')), lp(Buffer.from(t.pair, 'utf8'))]);
      expect(hex(info)).toBe(t.info);
      const input = Buffer.concat([B(t.secret), u16(info.length), info]);
      let sk: Uint8Array = new Uint8Array(32);
      for (let counter = 0; sk.every((b) => b === 0); counter++) sk = h2s(Buffer.concat([input, Buffer.from([counter])]), dst);
      expect(hex(sk)).toBe(t.sk);
      expect(hex(sodium.crypto_scalarmult_ristretto255_base(sk))).toBe(t.pk);
    }
  });

  test('§8.3 signed documents: canonical bytes, signing input, Ed25519 key and signature, fingerprint', () => {
    for (const t of v2.signed) {
      const c = canonical(t.document);
      expect(hex(c), t.name).toBe(t.canonical);
      const msg = Buffer.concat([CTX2, Buffer.from([0]), A(t.type), Buffer.from([0]), c]);
      expect(hex(msg), t.name).toBe(t.signingInput);
      const kp = sodium.crypto_sign_seed_keypair(B(t.secretKey));
      expect(hex(kp.publicKey), t.name).toBe(t.publicKey);
      const sig = sodium.crypto_sign_detached(msg, kp.privateKey);
      expect(hex(sig), t.name).toBe(t.signature);
      expect(sodium.crypto_sign_verify_detached(sig, msg, kp.publicKey)).toBe(true);
      const fp = sha256(A('Fingerprint-'), CTX2, kp.publicKey).subarray(0, 16).toString('hex');
      expect(fp.match(/.{4}/g)!.join(' '), t.name).toBe(t.fingerprint);
    }
  });

  test('§8.11 hit evidence: U = r⁻¹·E, P = r·G, and the §1.7 proof of log_G(P) = log_U(E) under "HitEvidence-" ‖ ctx', () => {
    const ctxH = Buffer.concat([A('HitEvidence-'), CTX2]);
    const h2sH = (x: Uint8Array) => h2s(x, Buffer.concat([A('HashToScalar-'), ctxH]));
    const mul = (k: Uint8Array, p: Uint8Array): Uint8Array => sodium.crypto_scalarmult_ristretto255(k, p);
    const h2g = (x: Uint8Array): Uint8Array => sodium.crypto_core_ristretto255_from_hash(xmd(x, Buffer.concat([A('HashToGroup-'), CTX2]), 64));
    /** §1.7 for one pair (C, D) with key k, under the hit-evidence context; `verify` recomputes c from (c, s). */
    const challenge = (B_: Uint8Array, C: Uint8Array, D: Uint8Array, t2: Uint8Array, t3: Uint8Array) => {
      const seed = sha512(lp(B_), lp(Buffer.concat([A('Seed-'), ctxH])));
      const d = h2sH(Buffer.concat([lp(seed), u16(0), lp(C), lp(D), A('Composite')]));
      const M = mul(d, C);
      const Z = mul(d, D);
      return { M, Z, c: h2sH(Buffer.concat([lp(B_), lp(M), lp(Z), lp(t2), lp(t3), A('Challenge')])) };
    };
    expect(v2.hitEvidence.length).toBeGreaterThan(0);
    for (const t of v2.hitEvidence) {
      const r = B(t.blind);
      const kB = B(t.responderSk);
      expect(hex(mul(r, h2g(B(t.input))))).toBe(t.blinded);
      const E = mul(kB, B(t.blinded));
      expect(hex(E)).toBe(t.evaluated);
      const U = mul(sodium.crypto_core_ristretto255_scalar_invert(r), E);
      expect(hex(U)).toBe(t.element);
      // U is the responder's own blinded element of the input: what its uploaded side holds.
      expect(hex(mul(kB, h2g(B(t.input))))).toBe(t.element);
      const P = sodium.crypto_scalarmult_ristretto255_base(r);
      expect(hex(P)).toBe(t.blindPublic);
      const rho = B(t.proofRandomScalar);
      const t2 = sodium.crypto_scalarmult_ristretto255_base(rho);
      const { M } = challenge(P, U, E, t2, t2);
      const { c } = challenge(P, U, E, t2, mul(rho, M));
      const s_ = sodium.crypto_core_ristretto255_scalar_sub(rho, sodium.crypto_core_ristretto255_scalar_mul(c, r));
      expect(hex(Buffer.concat([c, s_]))).toBe(t.proof);
      // The verifier's side: t2 = s·G + c·P, t3 = s·M + c·Z, and c recomputed.
      const proof = B(t.proof);
      const [pc, ps] = [proof.subarray(0, 32), proof.subarray(32)];
      const vt2 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255_base(ps), mul(pc, P));
      const { M: vM, Z: vZ } = challenge(P, U, E, vt2, vt2);
      const vt3 = sodium.crypto_core_ristretto255_add(mul(ps, vM), mul(pc, vZ));
      expect(hex(challenge(P, U, E, vt2, vt3).c)).toBe(hex(pc));
    }
  });

  test('§8.6–§8.9 the documents say what they should', () => {
    for (const t of v2.signed) {
      const d = t.document;
      const elements = Buffer.concat((t.elements ?? []).map((x) => B(x)));
      if (t.type === 'agreement') {
        expect(sha256(canonical(d)).toString('hex')).toBe(t.digest);
        const parties = d.parties as Array<{ agency: string; signingKey: string }>;
        expect(parties.find((p) => p.agency === t.signer)?.signingKey).toBe(t.publicKey);
        expect(parties.map((p) => p.agency)).toEqual([...parties.map((p) => p.agency)].sort(byCodeUnits));
      }
      if (t.type === 'epoch-key') {
        expect(d.agency).toBe(t.signer);
        expect(v2.pairKeys.some((k) => k.pk === d.publicKey && k.epoch === d.epoch && k.pair === d.pair)).toBe(true);
      }
      if (t.type === 'chunk') {
        expect(d.agency).toBe(t.signer);
        expect(elements.length).toBe((d.count as number) * 32);
        expect(sha256(elements).toString('hex')).toBe(d.sha256);
      }
      if (t.type === 'query') {
        expect(d.requester).toBe(t.signer);
        expect(elements.length).toBe((d.count as number) * 32);
        expect(sha256(elements).toString('hex')).toBe(d.valuesSha256);
        expect(d.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
      }
    }
  });
});

// ---- §9 audit transparency log, from the spec and RFC 9162 §2.1 alone ----

describe('Concordat audit transparency log (§9)', () => {
  beforeAll(async () => {
    await sodium.ready;
  });
  const t = JSON.parse(readFileSync(new URL('../vectors/concordat-v2-tlog.json', import.meta.url), 'utf8')) as any;
  const hmac256 = (key: Uint8Array, msg: Uint8Array): Buffer => createHmac('sha256', key).update(msg).digest();
  const Z = Buffer.from([0]);
  const leafH = (leaf: Uint8Array): Buffer => sha256(Z, leaf);
  const nodeH = (l: Uint8Array, r: Uint8Array): Buffer => sha256(Buffer.from([1]), l, r);
  const split = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
  /** RFC 9162 §2.1.1 MTH. */
  const mth = (d: Buffer[]): Buffer => (d.length === 0 ? sha256() : d.length === 1 ? (d[0] as Buffer) : nodeH(mth(d.slice(0, split(d.length))), mth(d.slice(split(d.length)))));
  /** RFC 9162 §2.1.3.1 PATH(m, D). */
  const path = (m: number, d: Buffer[]): Buffer[] => {
    if (d.length <= 1) return [];
    const k = split(d.length);
    return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
  };
  /** RFC 9162 §2.1.4.1 SUBPROOF(m, D, b). */
  const subproof = (m: number, d: Buffer[], b: boolean): Buffer[] => {
    if (m === d.length) return b ? [] : [mth(d)];
    const k = split(d.length);
    return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  const SEALED = new Set(['outcome', 'detail.officer', 'detail.hits', 'detail.noHits', 'detail.unlocated', 'detail.error']);
  /** §9.2: the leaf of a view, each shown sealed part committed with its salt, each withheld one by its commitment. */
  function leafOf(e: any): string {
    const detail: Record<string, unknown> = {};
    const sealed: Record<string, string> = { ...(e.sealed ?? {}) };
    const commit = (p: string, value: unknown): string =>
      hex(sha256(A(`AuditCommitment-${CTX2}`), Z, B(e.salts[p]), Buffer.from(p, 'utf8'), Z, canonical(value)));
    if (!('outcome' in sealed)) sealed.outcome = commit('outcome', e.outcome);
    for (const [k, v] of Object.entries(e.detail)) {
      if (SEALED.has(`detail.${k}`)) sealed[`detail.${k}`] = commit(`detail.${k}`, v);
      else detail[k] = v;
    }
    return jcs({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail, sealed });
  }

  test('§9.2 salts, leaves and leaf hashes; redacted views give the same leaf hash', () => {
    for (const l of t.leaves) {
      for (const [p, salt] of Object.entries(l.entry.salts)) {
        const seq = Buffer.alloc(8);
        seq.writeBigUInt64BE(BigInt(l.entry.seq));
        expect(hex(hmac256(B(t.saltKey), Buffer.concat([A(`AuditSalt-${CTX2}`), Z, seq, Buffer.from(p, 'utf8')]))), p).toBe(salt);
      }
      expect(leafOf(l.entry)).toBe(l.leaf);
      expect(hex(leafH(Buffer.from(l.leaf, 'utf8')))).toBe(l.leafHash);
    }
    for (const r of t.redacted) {
      expect(hex(leafH(Buffer.from(leafOf(r.entry), 'utf8')))).toBe(r.leafHash);
      expect(Object.keys(r.entry.sealed).length).toBeGreaterThan(0);
    }
  });

  test('§9.1 roots, inclusion and consistency proofs are RFC 9162 §2.1 over the leaf hashes', () => {
    const d = t.leaves.map((l: any) => B(l.leafHash));
    for (const r of t.roots) expect(hex(mth(d.slice(0, r.size)))).toBe(r.root);
    for (const p of t.inclusion) expect(path(p.index, d.slice(0, p.size)).map(hex)).toEqual(p.proof);
    for (const c of t.consistency) expect(c.from === 0 ? [] : subproof(c.from, d.slice(0, c.to), true).map(hex)).toEqual(c.proof);
  });

  test('§9.4 heads: log id and Ed25519 signature over the §8.3 signing input of type tree-head', () => {
    for (const h of t.heads) {
      const kp = sodium.crypto_sign_seed_keypair(B(h.logSecretKey));
      expect(hex(kp.publicKey)).toBe(h.logPublicKey);
      expect(h.head.log).toBe(hex(sha256(A(`AuditLog-${CTX2}`), kp.publicKey)));
      const msg = Buffer.concat([CTX2, Z, A('tree-head'), Z, canonical(h.head)]);
      expect(hex(sodium.crypto_sign_detached(msg, kp.privateKey))).toBe(h.signature);
    }
  });

  test('the stored-hash tree of protocol/tlog.ts agrees with a naive RFC 9162 implementation for n = 1..64', async () => {
    const tl = await import('../protocol/tlog.js');
    const leaves = Array.from({ length: 64 }, (_, i) => leafH(Buffer.from(`leaf ${i}`)));
    const stored = new Map<string, Uint8Array>();
    const hashAt = (l: number, x: number): Uint8Array => stored.get(`${l}/${x}`) as Uint8Array;
    for (let n = 1; n <= 64; n++) {
      for (const nd of tl.appendHashes(n - 1, leaves[n - 1] as Uint8Array, hashAt)) stored.set(`${nd.level}/${nd.index}`, nd.hash);
      expect(stored.size).toBe(tl.storedHashCount(n));
      const d = leaves.slice(0, n);
      const root = mth(d);
      expect(hex(tl.treeRoot(n, hashAt)), `n=${n}`).toBe(hex(root));
      for (let i = 0; i < n; i++) {
        const p = path(i, d);
        expect(tl.inclusionProof(i, n, hashAt).map(hex), `PATH(${i}, D[${n}])`).toEqual(p.map(hex));
        expect(tl.verifyInclusion(d[i] as Buffer, i, n, p, root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const p = subproof(m, d, true);
        expect(tl.consistencyProof(m, n, hashAt).map(hex), `PROOF(${m}, D[${n}])`).toEqual(p.map(hex));
        expect(tl.verifyConsistency(m, n, mth(leaves.slice(0, m)), root, p), `${m}→${n}`).toBe(true);
      }
    }
  });
});
