// An independent implementation of Concordat PSI v1 written from
// protocol/SPEC.md alone: libsodium for the group, node:crypto for SHA-512,
// and none of protocol/'s code. It must reproduce every vector.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, expect, test } from 'vitest';

type V = {
  suite: string;
  hashToGroup: Array<{ input: string; element: string }>;
  deriveKeyPair: Array<{ seed: string; info: string; sk: string; pk: string }>;
  evaluate: Array<{ sk: string; element: string; result: string }>;
  token: Array<{ element: string; token: string }>;
  pairs: Array<{ kind: string; canonical: string; input: string; skA: string; skB: string; blindedA: string; blindedB: string; doubleAB: string; token: string }>;
  proofs: Array<{ sk: string; pk: string; blinded: string[]; evaluated: string[]; proofRandomScalar: string; proof: string }>;
};
const v = JSON.parse(readFileSync(new URL('../vectors/concordat-v1.json', import.meta.url), 'utf8')) as V;

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

const CTX = A('CONCORDAT-V1-ristretto255-SHA512');
const h2g = (x: Uint8Array): Uint8Array => sodium.crypto_core_ristretto255_from_hash(xmd(x, Buffer.concat([A('HashToGroup-'), CTX]), 64));
const h2s = (x: Uint8Array, dst = Buffer.concat([A('HashToScalar-'), CTX])): Uint8Array => sodium.crypto_core_ristretto255_scalar_reduce(xmd(x, dst, 64));
const mul = (k: Uint8Array, p: Uint8Array): Uint8Array => sodium.crypto_scalarmult_ristretto255(k, p);
const token = (e: Uint8Array): Buffer => sha512(A('Token-'), CTX, e).subarray(0, 16);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

beforeAll(async () => {
  await sodium.ready;
});

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
