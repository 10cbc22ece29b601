// Vectors of the audit transparency log (protocol/SPEC.md §9):
// vectors/concordat-v2-tlog.json, rendered deterministically (every key from
// SHA-512 of a fixed label) and checked by the one loader (protocol/vectors.ts).
// Leaves carry sealed parts with their salts, and one entry also as a view
// with parts withheld that must give the same leaf hash.
import { sha512 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, hexToBytes, utf8 } from './bytes.js';
import type { JsonValue } from './canonical.js';
import { CONCORDAT_V2_CONTEXT } from './constants.js';
import { signingPublicKey } from './signed.js';
import {
  appendHashes,
  auditLeaf,
  auditLeafHash,
  consistencyProof,
  inclusionProof,
  sealedView,
  signTreeHead,
  treeRoot,
  treeHeadSchema,
  verifyConsistency,
  verifyInclusion,
  verifyTreeHead,
  withhold,
  type AuditLeafView,
  type HashAt,
} from './tlog.js';

const fixed = (label: string, n = 32): Uint8Array => sha512(utf8(`concordat-vectors:tlog:${label}`)).subarray(0, n);

const ENTRIES: ReadonlyArray<Omit<AuditLeafView, 'salts' | 'sealed'>> = [
  { seq: 1, at: '2026-03-10T12:00:00.000Z', actor: 'admin', action: 'coordinator.initialised', subject: 'coordinator', outcome: 'ok', detail: { epoch: 'e1' } },
  { seq: 2, at: '2026-03-10T12:00:01.000Z', actor: 'admin', action: 'agency.added', subject: 'ES-CNP', outcome: 'ok', detail: { country: 'ESP' } },
  { seq: 3, at: '2026-03-10T12:00:02.000Z', actor: 'admin', action: 'agency.added', subject: 'PT-PJ', outcome: 'ok', detail: { country: 'PRT' } },
  { seq: 4, at: '2026-03-10T12:01:00.000Z', actor: 'ES-CNP', action: 'query.created', subject: 'q-1', outcome: 'ok', detail: { officer: 'es-officer-1', partners: ['PT-PJ'], values: 2 } },
  {
    seq: 5,
    at: '2026-03-10T12:02:00.000Z',
    actor: 'ES-CNP',
    action: 'query.outcome',
    subject: 'q-1',
    outcome: 'ok',
    detail: { requester: 'ES-CNP', partner: 'PT-PJ', officer: 'es-officer-1', kind: 'email', values: 2, hits: 1, noHits: 1 },
  },
  { seq: 6, at: '2026-03-10T12:03:00.000Z', actor: 'PT-PJ', action: 'authz.refused', subject: '/v1/admin/agreements', outcome: 'forbidden', detail: {} },
  { seq: 7, at: '2026-03-10T12:04:00.000Z', actor: 'ES-CNP', action: 'query.outcome', subject: 'q-2', outcome: 'quota', detail: { requester: 'ES-CNP', error: 'quota' } },
];

const SIZES = [0, 1, 2, 3, 4, 5, 6, 7];
const INCLUSION: ReadonlyArray<[number, number]> = [
  [0, 1],
  [0, 7],
  [3, 7],
  [4, 5],
  [6, 7],
  [5, 6],
];
const CONSISTENCY: ReadonlyArray<[number, number]> = [
  [0, 7],
  [1, 7],
  [3, 7],
  [4, 7],
  [4, 6],
  [6, 7],
  [7, 7],
];

const hex = z.string().regex(/^([0-9a-f]{2})*$/, 'must be lower-case hex');
const json: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]));
const viewSchema = z
  .object({
    seq: z.number().int().positive(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string(),
    outcome: z.string(),
    detail: z.record(z.string(), json),
    salts: z.record(z.string(), hex).optional(),
    sealed: z.record(z.string(), hex).optional(),
  })
  .strict();

export const concordatV2TlogVectorsSchema = z
  .object({
    suite: z.literal(CONCORDAT_V2_CONTEXT),
    tlog: z.literal('RFC 9162 §2.1, SHA-256'),
    saltKey: hex,
    leaves: z.array(z.object({ entry: viewSchema, leaf: z.string(), leafHash: hex }).strict()),
    redacted: z.array(z.object({ entry: viewSchema, leafHash: hex }).strict()),
    roots: z.array(z.object({ size: z.number().int().min(0), root: hex }).strict()),
    inclusion: z.array(z.object({ index: z.number().int().min(0), size: z.number().int().min(1), proof: z.array(hex) }).strict()),
    consistency: z.array(z.object({ from: z.number().int().min(0), to: z.number().int().min(0), proof: z.array(hex) }).strict()),
    heads: z.array(z.object({ logSecretKey: hex, logPublicKey: hex, head: treeHeadSchema, signature: hex }).strict()),
  })
  .strict();
export type ConcordatV2TlogVectors = z.infer<typeof concordatV2TlogVectorsSchema>;

/** The stored hashes of a tree over `leaves`, as appends store them (§9.3). */
function storedTree(leaves: readonly Uint8Array[]): HashAt {
  const nodes = new Map<string, Uint8Array>();
  const hashAt: HashAt = (l, x) => {
    const h = nodes.get(`${l}/${x}`);
    if (!h) throw new RangeError(`no stored hash at level ${l}, index ${x}`);
    return h;
  };
  leaves.forEach((leaf, i) => {
    for (const n of appendHashes(i, leaf, hashAt)) nodes.set(`${n.level}/${n.index}`, n.hash);
  });
  return hashAt;
}

export function concordatV2TlogVectors(): ConcordatV2TlogVectors {
  const saltKey = fixed('salt-key');
  const views = ENTRIES.map((e) => sealedView(e, saltKey));
  const leafHashes = views.map((v) => auditLeafHash(v));
  const hashAt = storedTree(leafHashes);
  const hexes = (xs: readonly Uint8Array[]): string[] => xs.map((x) => bytesToHex(x));
  // What the responder sees of entry 5, and another party of entry 4.
  const fifth = ['outcome', 'detail.officer', 'detail.hits', 'detail.noHits'].reduce((v, p) => withhold(v, p), views[4] as AuditLeafView);
  const fourth = withhold(views[3] as AuditLeafView, 'detail.officer');
  const logSecretKey = fixed('log-key');
  const heads = [3, 7].map((size) => {
    const { head, signature } = signTreeHead(size, treeRoot(size, hashAt), `2026-03-10T13:00:0${size}.000Z`, logSecretKey);
    return { logSecretKey: bytesToHex(logSecretKey), logPublicKey: bytesToHex(signingPublicKey(logSecretKey)), head, signature: bytesToHex(signature) };
  });
  return {
    suite: CONCORDAT_V2_CONTEXT,
    tlog: 'RFC 9162 §2.1, SHA-256',
    saltKey: bytesToHex(saltKey),
    leaves: views.map((v, i) => ({ entry: v, leaf: new TextDecoder().decode(auditLeaf(v)), leafHash: bytesToHex(leafHashes[i] as Uint8Array) })),
    redacted: [
      { entry: fourth, leafHash: bytesToHex(leafHashes[3] as Uint8Array) },
      { entry: fifth, leafHash: bytesToHex(leafHashes[4] as Uint8Array) },
    ],
    roots: SIZES.map((size) => ({ size, root: bytesToHex(treeRoot(size, hashAt)) })),
    inclusion: INCLUSION.map(([index, size]) => ({ index, size, proof: hexes(inclusionProof(index, size, hashAt)) })),
    consistency: CONSISTENCY.map(([from, to]) => ({ from, to, proof: hexes(consistencyProof(from, to, hashAt)) })),
    heads,
  };
}

/** vectors/concordat-v2-tlog.json, byte for byte. */
export function renderConcordatV2TlogVectors(): string {
  return `${JSON.stringify(concordatV2TlogVectors(), null, 2)}\n`;
}

export interface TlogFailure {
  readonly case: string;
  readonly message: string;
}

/** Check a parsed tlog vector file against protocol/tlog.ts; each case computed and verified. */
export function verifyConcordatV2Tlog(v: ConcordatV2TlogVectors): { cases: number; failures: TlogFailure[] } {
  const failures: TlogFailure[] = [];
  let cases = 0;
  const run = (name: string, ok: () => boolean): void => {
    cases++;
    try {
      if (!ok()) failures.push({ case: name, message: 'differs from the vector' });
    } catch (e) {
      failures.push({ case: name, message: `threw ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  const saltKey = hexToBytes(v.saltKey);
  const leaves = v.leaves.map((l) => hexToBytes(l.leafHash));
  v.leaves.forEach((l, i) =>
    run(`leaves[${i}]`, () => {
      const plain = { ...l.entry } as AuditLeafView;
      delete plain.salts;
      return (
        new TextDecoder().decode(auditLeaf(l.entry)) === l.leaf &&
        bytesToHex(auditLeafHash(l.entry)) === l.leafHash &&
        JSON.stringify(sealedView(plain, saltKey).salts) === JSON.stringify(l.entry.salts)
      );
    }),
  );
  v.redacted.forEach((r, i) => run(`redacted[${i}]`, () => bytesToHex(auditLeafHash(r.entry)) === r.leafHash));
  const hashAt = storedTree(leaves);
  const rootOf = new Map(v.roots.map((r) => [r.size, hexToBytes(r.root)]));
  v.roots.forEach((r, i) => run(`roots[${i}]`, () => bytesToHex(treeRoot(r.size, hashAt)) === r.root));
  v.inclusion.forEach((t, i) =>
    run(`inclusion[${i}]`, () => {
      const root = rootOf.get(t.size) as Uint8Array;
      return (
        JSON.stringify(inclusionProof(t.index, t.size, hashAt).map((x) => bytesToHex(x))) === JSON.stringify(t.proof) &&
        verifyInclusion(leaves[t.index] as Uint8Array, t.index, t.size, t.proof.map((x) => hexToBytes(x)), root)
      );
    }),
  );
  v.consistency.forEach((t, i) =>
    run(`consistency[${i}]`, () => {
      const a = rootOf.get(t.from) as Uint8Array;
      const b = rootOf.get(t.to) as Uint8Array;
      return (
        JSON.stringify(consistencyProof(t.from, t.to, hashAt).map((x) => bytesToHex(x))) === JSON.stringify(t.proof) &&
        verifyConsistency(t.from, t.to, a, b, t.proof.map((x) => hexToBytes(x)))
      );
    }),
  );
  v.heads.forEach((t, i) =>
    run(`heads[${i}]`, () => {
      const sk = hexToBytes(t.logSecretKey);
      const again = signTreeHead(t.head.size, hexToBytes(t.head.root), t.head.at, sk);
      return (
        bytesToHex(signingPublicKey(sk)) === t.logPublicKey &&
        bytesToHex(again.signature) === t.signature &&
        t.head.root === bytesToHex(rootOf.get(t.head.size) ?? new Uint8Array()) &&
        verifyTreeHead(t.head, hexToBytes(t.signature), hexToBytes(t.logPublicKey))
      );
    }),
  );
  return { cases, failures };
}
