// The native engine (system libsodium through koffi) against the reference
// and WebAssembly engines: the same bytes, and the same refusal with the same
// message for every bad input (identity, non-canonical and off-curve
// encodings, bad lengths, bad scalars, tampered proofs). Also the injected
// expand_message_xmd (RFC 9380 §5.3.1) against @noble/curves' for every hash.
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, CONCORDAT_V1_SUITE, CONCORDAT_V2_SUITE, epochInfo } from '../protocol/constants.js';
import { availableEngines, defaultEngineName, engineNameFrom, loadEngine, nativeAvailable, type Engine } from '../protocol/engine/index.js';
import { nativeSodium } from '../protocol/engine/native.js';
import { platformSha512, portableSha512 } from '../protocol/engine/sha512.js';
import { createExpandXmd, type Sha512Into } from '../protocol/hash-to-group.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { encodePoint, encodeScalar, GROUP_ORDER, Point } from '../protocol/group.js';
import { canaryFromScalar } from '../protocol/token.js';

const engines: Engine[] = await availableEngines();
const suite = CONCORDAT_V2_SUITE;
const { sk, pk } = deriveKeyPair(suite, new Uint8Array(32).fill(7), epochInfo('native'));

/** What an engine call did: its bytes, or the error's class and message. */
function outcome(f: () => Uint8Array | boolean | void): string {
  try {
    const r = f();
    return r === undefined ? 'ok' : typeof r === 'boolean' ? `ok ${r}` : `ok ${bytesToHex(r)}`;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

function sameOnEveryEngine(f: (e: Engine) => Uint8Array | boolean | void): string {
  const results = engines.map((e) => ({ engine: e.name, r: outcome(() => f(e)) }));
  for (const { engine, r } of results) expect({ engine, r }).toEqual({ engine, r: results[0]!.r });
  return results[0]!.r;
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const G = encodePoint(Point.BASE);
// RFC 9496 §A.2 bad encodings: non-canonical field elements, negative, and non-square ones.
const BAD = {
  identity: new Uint8Array(32),
  'p itself (non-canonical)': hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  'high bit set': hex('0000000000000000000000000000000000000000000000000000000000000080'),
  'negative field element': hex('0100000000000000000000000000000000000000000000000000000000000000'),
  'not a valid point': hex('26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371'),
  'non-square x^2': hex('f6a52b1d4b1d58be3b7ad35e5b01e7bb2f05a31e2e41fa9f20ea01a2fe3af67b'),
  'a torsion point': hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
};

describe('engine selection', () => {
  test('the native engine loads on this machine and is the default', () => {
    const { lib, reason } = nativeSodium();
    expect(reason).toBeUndefined();
    expect(lib?.version).toMatch(/^1\.0\./);
    expect(nativeAvailable()).toBe(true);
    expect(defaultEngineName()).toBe('native');
    expect(engineNameFrom(undefined, undefined)).toBe('native');
    expect(engineNameFrom(undefined, 'fast')).toBe('fast');
    expect(engineNameFrom('reference', 'fast')).toBe('reference');
    expect(() => engineNameFrom('sodium')).toThrow(/unknown engine "sodium".*native, fast, reference/);
    expect(engines.map((e) => e.name)).toEqual(['reference', 'fast', 'native']);
  });

  test('loadEngine returns each engine by name', async () => {
    for (const name of ['native', 'fast', 'reference'] as const) expect((await loadEngine(name)).name).toBe(name);
    expect((await loadEngine()).name).toBe('native');
  });
});

describe('every engine gives the same bytes', () => {
  const inputs = [new Uint8Array(0), utf8('a'), utf8('email\u0000person@example.org'), new Uint8Array(300).fill(0xab), new Uint8Array(5000).fill(1)];

  test.each([
    ['v1', CONCORDAT_V1_SUITE],
    ['v2', CONCORDAT_V2_SUITE],
  ] as const)('hashToGroup, blind, evaluate and tokenize (%s suite)', (_, s) => {
    const h = sameOnEveryEngine((e) => e.hashToGroup(s, inputs));
    expect(h).toMatch(/^ok [0-9a-f]{320}$/);
    sameOnEveryEngine((e) => e.blind(s, sk, inputs));
    const elements = engines[0]!.blind(s, sk, inputs);
    sameOnEveryEngine((e) => e.evaluate(sk, elements));
    sameOnEveryEngine((e) => e.tokenize(s, sk, elements));
  });

  test('random inputs and keys (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.bigInt({ min: 1n, max: GROUP_ORDER - 1n }), (x, k) => {
        const key = encodeScalar(k);
        const blinded = sameOnEveryEngine((e) => e.blind(suite, key, [x]));
        expect(blinded.startsWith('ok ')).toBe(true);
        sameOnEveryEngine((e) => e.tokenize(suite, key, hex(blinded.slice(3))));
      }),
      { numRuns: 60, seed: 9497 },
    );
  });

  test('deriveKeyPair gives the same key pair with any engine computing k·G (the agency uses the native one for its pair keys)', () => {
    for (let i = 0; i < 20; i++) {
      const seed = new Uint8Array(32).fill(i);
      const info = epochInfo(`e${i}`);
      const expected = bytesToHex(concatBytes(...Object.values(deriveKeyPair(suite, seed, info))));
      for (const e of engines) expect({ engine: e.name, kp: bytesToHex(concatBytes(...Object.values(deriveKeyPair(suite, seed, info, (k) => e.publicKey(k))))) }).toEqual({ engine: e.name, kp: expected });
    }
  });

  test("a canary's expected token Token(r·K) is tokenize under r of the partner key K, on every engine", () => {
    const K = engines[0]!.blind(suite, sk, [utf8('partner key')]);
    for (let i = 1; i <= 5; i++) {
      const r = encodeScalar(BigInt(i) * 7919n + 12345n);
      const expected = bytesToHex(canaryFromScalar(suite, r, K).expectedToken);
      for (const e of engines) expect(bytesToHex(e.tokenize(suite, r, K)), e.name).toBe(expected);
    }
  });

  test('evaluateWithProof is identical under the same nonce, and each engine verifies every proof', () => {
    const blinded = [...Array(5).keys()].map((i) => engines[0]!.hashToGroup(suite, [utf8(`q${i}`)]));
    const rng = (n: number): Uint8Array => new Uint8Array(n).fill(0x42);
    const proofs = engines.map((e) => e.evaluateWithProof(suite, sk, blinded, rng));
    for (const p of proofs) {
      expect(bytesToHex(concatBytes(...p.evaluated, p.proof))).toBe(bytesToHex(concatBytes(...proofs[0]!.evaluated, proofs[0]!.proof)));
    }
    const { evaluated, proof } = proofs[0]!;
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, blinded, evaluated, proof))).toBe('ok true');
    const bad = proof.slice();
    bad[0]! ^= 1;
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, blinded, evaluated, bad))).toBe('ok false');
    // Evaluations swapped between two positions: the proof no longer binds them.
    const swapped = [evaluated[1]!, evaluated[0]!, ...evaluated.slice(2)];
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, blinded, swapped, proof))).toBe('ok false');
    expect(sameOnEveryEngine((e) => e.verifyProof(CONCORDAT_V1_SUITE, pk, blinded, evaluated, proof))).toBe('ok false');
    // A zero response scalar makes libsodium refuse s·G; the engines fall back and agree.
    const zeroS = concatBytes(proof.subarray(0, 32), new Uint8Array(32));
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, blinded, evaluated, zeroS))).toBe('ok false');
  });
});

describe('every engine refuses the same inputs with the same error', () => {
  test.each(Object.entries(BAD))('%s as an element', (_, bad) => {
    const packed = concatBytes(G, G, bad, G);
    const e1 = sameOnEveryEngine((e) => e.evaluate(sk, packed, 'partnerSet'));
    expect(e1).toMatch(/^DecodeError: partnerSet\[2\]: /);
    // The coordinator's check of an upload refuses exactly what evaluating it would.
    expect(sameOnEveryEngine((e) => e.checkElements(packed, 'partnerSet'))).toBe(e1);
    expect(sameOnEveryEngine((e) => e.tokenize(suite, sk, packed, 'partnerSet'))).toBe(e1);
    expect(sameOnEveryEngine((e) => e.evaluateWithProof(suite, sk, [G, bad], () => new Uint8Array(64).fill(1)).proof)).toMatch(/^DecodeError: blinded\[1\]: /);
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, [G, bad], [G, G], new Uint8Array(64)))).toMatch(/^DecodeError: /);
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, bad, [G], [G], new Uint8Array(64)))).toMatch(/^DecodeError: pk: /);
  });

  test('packed lengths that are not a multiple of 32', () => {
    for (const n of [1, 31, 33, 65]) {
      expect(sameOnEveryEngine((e) => e.evaluate(sk, new Uint8Array(n), 'set'))).toMatch(/^DecodeError: set: packed elements must be a multiple of 32 bytes/);
      expect(sameOnEveryEngine((e) => e.tokenize(suite, sk, new Uint8Array(n), 'set'))).toMatch(/^DecodeError: set: /);
      expect(sameOnEveryEngine((e) => e.checkElements(new Uint8Array(n), 'set'))).toMatch(/^DecodeError: set: packed elements must be a multiple of 32 bytes/);
    }
  });

  test('bad secret keys: zero, ℓ, above ℓ, wrong length', () => {
    const keys = [new Uint8Array(32), encodeScalar(GROUP_ORDER), new Uint8Array(32).fill(0xff), new Uint8Array(31).fill(1)];
    for (const k of keys) {
      const r = sameOnEveryEngine((e) => e.evaluate(k, G));
      expect(r).toMatch(/^DecodeError: sk: /);
      expect(sameOnEveryEngine((e) => e.blind(suite, k, [utf8('x')]))).toBe(r);
      expect(sameOnEveryEngine((e) => e.tokenize(suite, k, G))).toBe(r);
    }
  });

  test('random 32-byte strings are accepted or refused alike (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => {
        const r = sameOnEveryEngine((e) => e.evaluate(sk, b));
        // Accepted by the check exactly when evaluating it succeeds, refused with the same error otherwise.
        expect(sameOnEveryEngine((e) => e.checkElements(b))).toBe(r.startsWith('ok') ? 'ok' : r);
      }),
      { numRuns: 300, seed: 9496 },
    );
  });

  test('malformed proofs', () => {
    const b = [G];
    const ev = [engines[0]!.evaluate(sk, G)];
    for (const proof of [new Uint8Array(63), new Uint8Array(65), concatBytes(encodeScalar(GROUP_ORDER), new Uint8Array(32))]) {
      expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, b, ev, proof))).toMatch(/^(ProofError|DecodeError): /);
    }
    expect(sameOnEveryEngine((e) => e.verifyProof(suite, pk, [G, G], ev, new Uint8Array(64)))).toMatch(/Error: /);
  });
});

describe('expand_message_xmd over an injected SHA-512 (RFC 9380 §5.3.1)', () => {
  const nativeHash: Sha512Into = (out, data) => {
    nativeSodium().lib!.hash_sha512(out, data, data.length);
  };
  const hashes: Array<[string, Sha512Into]> = [
    ['portable', portableSha512],
    ['node:crypto', platformSha512()],
    ['libsodium', nativeHash],
  ];
  test('node:crypto is what runs on Node', () => {
    expect(platformSha512()).not.toBe(portableSha512);
  });
  test.each(hashes)('%s matches @noble/curves for every length and DST size', (_, hash) => {
    const dsts = [utf8('QUUX-V01-CS02-with-expander-SHA512-256'), new Uint8Array(255).fill(3), new Uint8Array(256).fill(4), new Uint8Array(600).fill(5)];
    const msgs = [new Uint8Array(0), utf8('abc'), new Uint8Array(127).fill(9), new Uint8Array(128).fill(10), new Uint8Array(4000).fill(11)];
    for (const dst of dsts) {
      for (const len of [1, 32, 64, 65, 128, 200, 255 * 64]) {
        const f = createExpandXmd(hash, dst, len);
        for (const m of msgs) {
          // Twice: the expander reuses its scratch buffer between calls.
          for (let r = 0; r < 2; r++) expect(bytesToHex(f(m))).toBe(bytesToHex(expand_message_xmd(m, dst, len, sha512)));
        }
      }
    }
  });
  test('out-of-range lengths are refused', () => {
    expect(() => createExpandXmd(portableSha512, utf8('d'), 0)).toThrow(RangeError);
    expect(() => createExpandXmd(portableSha512, utf8('d'), 255 * 64 + 1)).toThrow(RangeError);
  });
});

describe('where the native library cannot load', () => {
  test('the default falls back to the WebAssembly engine, naming native fails with the reason, and the vectors check the others', async () => {
    const { spawnSync } = await import('node:child_process');
    const engineUrl = new URL('../dist/protocol/engine/index.js', import.meta.url).href;
    const script = `
      const m = await import(${JSON.stringify(engineUrl)});
      const names = (await m.availableEngines()).map((e) => e.name).join(',');
      let refused = '';
      try { await m.loadEngine('native'); } catch (e) { refused = e.message; }
      console.log(JSON.stringify({ default: m.defaultEngineName(), env: m.engineNameFrom(undefined, undefined), names, refused }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module'], { input: script, encoding: 'utf8', env: { ...process.env, CONCORDAT_LIBSODIUM: '/nonexistent/libsodium.so' } });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { default: string; env: string; names: string; refused: string };
    expect(out).toMatchObject({ default: 'fast', env: 'fast', names: 'reference,fast' });
    expect(out.refused).toMatch(/^engine: the native engine is unavailable: no libsodium found \(.*nonexistent/);
  });
});
