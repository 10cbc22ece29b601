// The agency's side of the coordinator's audit transparency log
// (protocol/SPEC.md §9; clients/README-cli.md, "concordat audit"). The log
// key is pinned on first use; every check then verifies the coordinator's
// signed head under it, proves the head consistent with the last head this
// agency verified, and proves every entry the coordinator lists as involving
// this agency since the last check included in the new head. Each failure is
// written to the local audit trail (`audit_log.key_changed`,
// `audit_log.inconsistent`) before it is raised, so it stays on record
// whatever the coordinator does next; a failed check stores nothing, so the
// next check fails again.
//
// Also here: the offline format of an audit export with proofs (a signed head
// on the first line, then each entry with its inclusion proof), its writer
// for the entries this agency reads, and its verifier.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../protocol/bytes.js';
import { CanonicalJsonError, canonicalJson, canonicalJsonText } from '../../protocol/canonical.js';
import { DecodeError } from '../../protocol/errors.js';
import { DocumentError, fingerprint } from '../../protocol/signed.js';
import { AuditLeafError, auditLeafHash, auditLogId, verifyConsistency, verifyInclusion, verifyTreeHead, AUDIT_SEALED_PATHS, type AuditLeafView, type TreeHead } from '../../protocol/tlog.js';
import type { AuditRecord } from '../sdk/api.js';
import type { CoordinatorClient } from '../sdk/client.js';
import { AuditLogError, CoordinatorError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { appendAudit } from './audit.js';

const KEY_STATE = 'audit_log_key';
const CHECKED_STATE = 'audit_log_checked_seq';
const SUBJECT = 'coordinator audit log';

/** A head as stored and as `concordat audit head --json` prints it. */
export interface StoredHead {
  head: TreeHead;
  /** Lower-case hex Ed25519 signature. */
  signature: string;
  /** When this agency verified it. */
  verifiedAt: string;
}

/** The log key as `/v1/me` shows it. */
export interface ShownLogKey {
  publicKey: string;
  log: string;
}

export interface AuditLogCheck {
  head: StoredHead;
  /** The head the new one was proved consistent with (null at the first check). */
  previous: StoredHead | null;
  /** Entries involving this agency proved included in the new head. */
  verified: number;
  /** Entries with a part withheld that is not sealed (another party's refused request): their leaf cannot be recomputed here. */
  unverifiable: number;
  /** The key was pinned by this check. */
  pinned: boolean;
}

const state = (store: Store, key: string): string | undefined => store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(key) as string | undefined;
const setState = (store: Store, key: string, value: string): void => {
  store.sqlite.prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
};

/** The pinned log key, or undefined before the first check. */
export function pinnedLogKey(store: Store): Uint8Array | undefined {
  const v = state(store, KEY_STATE);
  return v === undefined ? undefined : hexToBytes(v);
}

/** §8.3 fingerprint of the log key: what operators compare out of band. */
export const logKeyFingerprint = (key: Uint8Array): string => fingerprint(key);

/** The newest head this agency verified, or null. */
export function latestHead(store: Store): StoredHead | null {
  const r = store.sqlite.prepare('SELECT size, log, root, at, signature, verified_at AS verifiedAt FROM audit_heads ORDER BY size DESC LIMIT 1').get() as
    | { size: number; log: string; root: string; at: string; signature: string; verifiedAt: string }
    | undefined;
  return r ? { head: { log: r.log, size: r.size, root: r.root, at: r.at }, signature: r.signature, verifiedAt: r.verifiedAt } : null;
}

/** Writes the failure to the local trail, then returns the error to throw. */
function fail(store: Store, action: 'audit_log.inconsistent' | 'audit_log.key_changed', check: string, message: string, detail: Record<string, string | number | null>): AuditLogError {
  appendAudit(store, { officer: null, action, subject: SUBJECT, outcome: 'refused', detail: { check, message, ...detail } });
  return new AuditLogError(check, `the coordinator's audit log failed its ${check} check: ${message}`, { ...detail });
}

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * The pinned log key; on first use the one `/v1/me` shows, pinned now. A
 * key other than the pinned one (or none, once one is pinned) is refused.
 */
export function pinLogKey(store: Store, shown: ShownLogKey | undefined): { key: Uint8Array; pinned: boolean } {
  const pinned = state(store, KEY_STATE);
  if (pinned !== undefined) {
    if (shown?.publicKey === pinned) return { key: hexToBytes(pinned), pinned: false };
    const shownFp = shown && HEX32.test(shown.publicKey) ? fingerprint(hexToBytes(shown.publicKey)) : null;
    throw fail(store, 'audit_log.key_changed', 'log-key', shown ? 'GET /v1/me shows another log key than the one pinned here' : 'GET /v1/me no longer shows the log key pinned here', {
      pinned: fingerprint(hexToBytes(pinned)),
      shown: shownFp,
    });
  }
  if (!shown || !HEX32.test(shown.publicKey)) throw fail(store, 'audit_log.inconsistent', 'log-key', 'GET /v1/me shows no audit log key to pin', {});
  const key = hexToBytes(shown.publicKey);
  if (auditLogId(key) !== shown.log) throw fail(store, 'audit_log.inconsistent', 'log-key', 'the log id GET /v1/me shows is not the id of its log key', {});
  setState(store, KEY_STATE, shown.publicKey);
  appendAudit(store, { officer: null, action: 'audit_log.key_pinned', subject: SUBJECT, outcome: 'ok', detail: { fingerprint: fingerprint(key), log: shown.log } });
  return { key, pinned: true };
}

/** Does `signature` verify `head` under `key`? A malformed head does not. */
export function headVerifies(head: unknown, signature: unknown, key: Uint8Array): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return false;
  try {
    return verifyTreeHead(head, hexToBytes(signature), key);
  } catch (e) {
    if (e instanceof DocumentError) return false;
    throw e;
  }
}

const hashes = (proof: readonly string[]): Uint8Array[] => proof.map((h) => hexToBytes(h));

/** The entry's §9.2 leaf hash, or undefined when a withheld part is not sealed (the leaf is not recomputable by this reader). */
export function entryLeaf(e: AuditRecord): Uint8Array | undefined {
  const sealed = new Set<string>(AUDIT_SEALED_PATHS);
  if ((e.redacted ?? []).some((p) => !sealed.has(p))) return undefined;
  return auditLeafHash(e as AuditLeafView);
}

/** A coordinator refusing a proof it owes is a failed check; an unreachable one is not (it is retried at the next check). */
async function proofOr<T>(f: () => Promise<T>, onRefused: (e: CoordinatorError) => AuditLogError): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) throw onRefused(e);
    throw e;
  }
}

export interface CheckOptions {
  /** The log key `/v1/me` shows (a sync passes the one it read); otherwise read now. */
  shown?: ShownLogKey | undefined;
  now?: () => Date;
}

/**
 * One check of the coordinator's transparency log (see the top of this
 * file). Throws AuditLogError, already in the local trail, on any failure.
 */
export async function checkAuditLog(client: CoordinatorClient, store: Store, o: CheckOptions = {}): Promise<AuditLogCheck> {
  const shown = 'shown' in o ? o.shown : (await client.me()).auditLog;
  const { key, pinned } = pinLogKey(store, shown);
  const signed = await client.auditHead();
  if (!headVerifies(signed.head, signed.signature, key)) {
    throw fail(store, 'audit_log.inconsistent', 'signature', 'the signed head does not verify under the pinned log key', { size: signed.head.size });
  }
  const head = signed.head;
  const previous = latestHead(store);
  if (previous) {
    const old = previous.head;
    if (head.size < old.size) {
      throw fail(store, 'audit_log.inconsistent', 'rollback', `the head is of ${head.size} entries, fewer than the ${old.size} of a head verified before: entries were removed`, { size: head.size, previousSize: old.size });
    }
    if (head.size === old.size) {
      if (head.root !== old.root) throw fail(store, 'audit_log.inconsistent', 'consistency', `a head of ${head.size} entries with another root than the one verified before: the history was rewritten`, { size: head.size, previousSize: old.size });
    } else {
      const c = await proofOr(
        () => client.auditConsistency(old.size, head.size),
        (e) => fail(store, 'audit_log.inconsistent', 'consistency', `the coordinator refused the consistency proof (${e.status})`, { size: head.size, previousSize: old.size }),
      );
      if (c.from !== old.size || c.to !== head.size || !verifyConsistency(old.size, head.size, hexToBytes(old.root), hexToBytes(head.root), hashes(c.proof))) {
        throw fail(store, 'audit_log.inconsistent', 'consistency', `the tree of ${old.size} entries verified before is not a prefix of the tree of ${head.size}: the history was rewritten`, { size: head.size, previousSize: old.size });
      }
    }
  }
  // Every entry the coordinator lists as involving this agency, from the last check to the new head.
  const root = hexToBytes(head.root);
  let after = Number(state(store, CHECKED_STATE) ?? '0');
  if (after > head.size) after = 0;
  let verified = 0;
  let unverifiable = 0;
  for (;;) {
    const page = await client.audit(after);
    for (const e of page.entries) {
      if (e.seq > head.size) break;
      let leaf: Uint8Array | undefined;
      try {
        leaf = entryLeaf(e);
      } catch (err) {
        if (!(err instanceof AuditLeafError || err instanceof DecodeError || err instanceof CanonicalJsonError)) throw err;
        throw fail(store, 'audit_log.inconsistent', 'entry', `entry ${e.seq} has no recomputable leaf`, { seq: e.seq, size: head.size });
      }
      if (leaf === undefined) {
        unverifiable++;
        continue;
      }
      const p = await proofOr(
        () => client.auditInclusion(e.seq, head.size),
        (err) => fail(store, 'audit_log.inconsistent', 'inclusion', `the coordinator refused the inclusion proof of entry ${e.seq} (${err.status})`, { seq: e.seq, size: head.size }),
      );
      if (p.seq !== e.seq || p.size !== head.size || !verifyInclusion(leaf, e.seq - 1, head.size, hashes(p.proof), root)) {
        throw fail(store, 'audit_log.inconsistent', 'inclusion', `entry ${e.seq} as listed is not in the tree of the signed head: it was altered`, { seq: e.seq, size: head.size });
      }
      verified++;
    }
    const last = page.entries.at(-1);
    if (page.next === null || page.next >= head.size || (last !== undefined && last.seq >= head.size)) break;
    after = page.next;
  }
  const verifiedAt = (o.now ?? (() => new Date()))().toISOString();
  store.sqlite.transaction(() => {
    store.sqlite
      .prepare('INSERT INTO audit_heads (size, log, root, at, signature, verified_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (size) DO NOTHING')
      .run(head.size, head.log, head.root, head.at, signed.signature, verifiedAt);
    setState(store, CHECKED_STATE, String(head.size));
  })();
  const stored = latestHead(store) as StoredHead;
  return { head: stored, previous, verified, unverifiable, pinned };
}

// ---- comparing heads between parties (split views) ----

export interface CompareResult {
  ok: boolean;
  lines: string[];
}

/**
 * Heads from several parties (`concordat audit head --json` outputs), each
 * verified under `key`: two of one size must have one root; of different
 * sizes, with `consistency` (the coordinator's proofs), the smaller must be a
 * prefix of the larger. Anything else is a split view.
 */
export async function compareHeads(
  heads: ReadonlyArray<{ name: string; head: unknown; signature: unknown }>,
  key: Uint8Array,
  consistency?: (from: number, to: number) => Promise<readonly string[]>,
): Promise<CompareResult> {
  const lines: string[] = [];
  let ok = true;
  const good: Array<{ name: string; head: TreeHead }> = [];
  for (const h of heads) {
    if (!headVerifies(h.head, h.signature, key)) {
      lines.push(`${h.name}: the head does not verify under the log key`);
      ok = false;
    } else good.push({ name: h.name, head: h.head as TreeHead });
  }
  for (let i = 0; i < good.length; i++) {
    for (let j = i + 1; j < good.length; j++) {
      const [a, b] = [good[i], good[j]] as [(typeof good)[0], (typeof good)[0]];
      const [small, large] = a.head.size <= b.head.size ? [a, b] : [b, a];
      if (small.head.size === large.head.size) {
        if (small.head.root !== large.head.root) {
          lines.push(`SPLIT VIEW: ${a.name} and ${b.name} hold heads of ${a.head.size} entries with different roots`);
          ok = false;
        } else lines.push(`${a.name} and ${b.name}: the same head of ${a.head.size} entries`);
        continue;
      }
      if (!consistency) {
        lines.push(`${small.name} (${small.head.size}) and ${large.name} (${large.head.size}): sizes differ; give --dir to check their consistency`);
        continue;
      }
      let proof: readonly string[] | undefined;
      try {
        proof = await consistency(small.head.size, large.head.size);
      } catch (e) {
        if (!(e instanceof CoordinatorError)) throw e;
      }
      if (proof && verifyConsistency(small.head.size, large.head.size, hexToBytes(small.head.root), hexToBytes(large.head.root), hashes(proof))) {
        lines.push(`${small.name} (${small.head.size}) is a prefix of ${large.name} (${large.head.size})`);
      } else {
        lines.push(`SPLIT VIEW: the head of ${small.name} (${small.head.size} entries) is not a prefix of the head of ${large.name} (${large.head.size} entries)`);
        ok = false;
      }
    }
  }
  return { ok, lines };
}

// ---- audit exports with proofs ----

/** The first line of an export with proofs: the signed head every entry's proof is against. */
export interface ExportHeadLine {
  head: TreeHead;
  signature: string;
}

/**
 * An entry as an export line: RFC 8785 canonical JSON (so a line has one
 * spelling, and any byte changed in it changes a value that is checked). A
 * redacted entry drops `hash` and `prevHash`: they cover the parts withheld,
 * which its reader cannot check.
 */
export function exportLine(e: AuditRecord, proof: readonly string[]): string {
  const { hash, prevHash, ...rest } = e;
  const line = e.redacted && e.redacted.length > 0 ? { ...rest, proof } : { ...rest, hash, prevHash, proof };
  return `${canonicalJsonText(line)}\n`;
}

/**
 * The entries involving this agency as it reads them (redacted where another
 * party acted, sealed parts as commitments), each with its inclusion proof
 * against the head `check` just verified: lines for `verify-export`.
 */
export async function* exportWithProofs(client: CoordinatorClient, check: AuditLogCheck): AsyncGenerator<string> {
  const { head, signature } = check.head;
  yield `${canonicalJsonText({ head, signature } satisfies ExportHeadLine)}\n`;
  let after = 0;
  for (;;) {
    const page = await client.audit(after);
    for (const e of page.entries) {
      if (e.seq > head.size) return;
      if (entryLeaf(e) === undefined) continue;
      const p = await client.auditInclusion(e.seq, head.size);
      yield exportLine(e, p.proof);
    }
    if (page.next === null || page.next >= head.size) return;
    after = page.next;
  }
}

export interface ExportVerification {
  ok: boolean;
  entries: number;
  head?: TreeHead;
  /** 1-based line of the first failure. */
  line?: number;
  reason?: string;
}

const ENTRY_MEMBERS = new Set(['seq', 'at', 'actor', 'action', 'subject', 'outcome', 'detail', 'hash', 'prevHash', 'salts', 'sealed', 'redacted', 'proof']);

/** The chain hash of src/API.md "Audit log": SHA-256(prevHash ‖ canonical JSON of the event). */
function chainHashHex(prevHash: string, e: AuditRecord): string {
  const event = { seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, outcome: e.outcome, detail: e.detail };
  return bytesToHex(sha256(concatBytes(hexToBytes(prevHash), canonicalJson(event))));
}

/** Why an export entry line does not hold, or undefined when it does. */
function entryProblem(e: Record<string, unknown>, head: TreeHead, root: Uint8Array): string | undefined {
  for (const k of Object.keys(e)) if (!ENTRY_MEMBERS.has(k)) return `unknown member ${JSON.stringify(k.slice(0, 40))}`;
  const r = e as unknown as AuditRecord & { proof: unknown };
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) return 'seq: not an entry number';
  for (const k of ['at', 'actor', 'action', 'subject', 'outcome'] as const) if (typeof r[k] !== 'string') return `${k}: not a string`;
  if (typeof r.detail !== 'object' || r.detail === null || Array.isArray(r.detail)) return 'detail: not an object';
  if (!Array.isArray(r.proof) || !r.proof.every((h) => typeof h === 'string' && HEX32.test(h))) return 'proof: not a list of hashes';
  const redacted = r.redacted ?? [];
  if (!Array.isArray(redacted) || !redacted.every((p) => typeof p === 'string')) return 'redacted: not a list of paths';
  const sealed = Object.keys(r.sealed ?? {});
  if (redacted.length !== sealed.length || !sealed.every((p) => redacted.includes(p))) return 'redacted: does not name exactly the sealed parts';
  if (redacted.length > 0) {
    if (r.hash !== undefined || r.prevHash !== undefined) return 'a redacted entry carries no chain hash';
  } else {
    if (typeof r.hash !== 'string' || typeof r.prevHash !== 'string' || !HEX32.test(r.hash) || !HEX32.test(r.prevHash)) return 'hash, prevHash: 32 bytes of lower-case hex each';
    if (chainHashHex(r.prevHash, r) !== r.hash) return `entry ${r.seq}: hash is not SHA-256(prevHash ‖ entry)`;
  }
  let leaf: Uint8Array | undefined;
  try {
    leaf = entryLeaf(r);
  } catch (err) {
    if (err instanceof AuditLeafError || err instanceof DecodeError || err instanceof CanonicalJsonError) return `entry ${r.seq}: no recomputable leaf`;
    throw err;
  }
  if (leaf === undefined) return `entry ${r.seq}: withholds a part that is not sealed`;
  if (!verifyInclusion(leaf, r.seq - 1, head.size, hashes(r.proof as string[]), root)) return `entry ${r.seq} is not in the tree of the signed head`;
  return undefined;
}

/**
 * `concordat audit verify-export`: line 1 a signed head verifying under
 * `key`, every further line an entry whose recomputed leaf its `proof` shows
 * in that head's tree (and, unredacted, whose chain hash holds), each line in
 * canonical form, seqs ascending. Stops at the first failure, naming its line.
 */
export function verifyExport(text: string, key: Uint8Array): ExportVerification {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (line: number, reason: string, entries: number, head?: TreeHead): ExportVerification => ({ ok: false, entries, line, reason, ...(head ? { head } : {}) });
  /** The line's value when the line is its canonical spelling. */
  const parse = (s: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(s);
      if (v === null || typeof v !== 'object' || Array.isArray(v) || canonicalJsonText(v) !== s) return undefined;
      return v as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const first = parse(lines[0] ?? '');
  if (!first || Object.keys(first).some((k) => k !== 'head' && k !== 'signature')) return bad(1, 'the first line is not a signed head in canonical JSON', 0);
  if (!headVerifies(first.head, first.signature, key)) return bad(1, 'the signed head does not verify under the log key', 0);
  const head = first.head as TreeHead;
  const root = hexToBytes(head.root);
  let entries = 0;
  let lastSeq = 0;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    const e = parse(lines[i] as string);
    if (!e) return bad(n, 'not an audit entry in canonical JSON', entries, head);
    let problem: string | undefined;
    try {
      problem = entryProblem(e, head, root);
    } catch (err) {
      // A value no entry can hold (a number outside JSON's safe integers, …): the line does not verify either.
      problem = `entry ${String(e.seq).slice(0, 20)}: not checkable (${err instanceof Error ? err.name : 'error'})`;
    }
    if (problem) return bad(n, problem, entries, head);
    const seq = e.seq as number;
    if (seq <= lastSeq) return bad(n, `entry ${seq} is out of order`, entries, head);
    lastSeq = seq;
    entries++;
  }
  return { ok: true, entries, head };
}
