// Tamper-evident audit log (DESIGN.md §3): an append-only hash chain.
//   hash_0 = 32 zero bytes
//   hash_n = SHA-256(hash_{n-1} ‖ UTF8(canonicalJSON(event_n)))
// event = {seq, at, actor, action, subject, outcome, detail}. Editing,
// removing or reordering an entry changes every later hash, so re-walking the
// chain finds the first entry that no longer fits. Pure: runs on Node and Workers.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes, utf8 } from '../protocol/bytes.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type AuditDetail = { [key: string]: JsonValue };

/** What a caller appends; the store assigns seq and hash. */
export interface AuditInput {
  at: string;
  /** keyid of the caller (`admin`, an agency id), `coordinator`, or `unknown`. */
  actor: string;
  /** Dotted verb, e.g. `chunk.stored`, `auth.refused`. */
  action: string;
  /** What the action was about: an agency, agreement or pair id, or a route. */
  subject: string;
  /** `ok`, or the refusal reason / problem slug. */
  outcome: string;
  /** Small, never an identifier, element or token. */
  detail: AuditDetail;
}

export interface AuditEvent extends AuditInput {
  seq: number;
}

export interface AuditEntry extends AuditEvent {
  /** hash_seq, 32 bytes. */
  hash: Uint8Array;
}

export const AUDIT_GENESIS_HASH: Uint8Array = new Uint8Array(32);

/**
 * Canonical JSON: object keys sorted by code unit, recursively, no
 * whitespace; strings and numbers as JSON.stringify writes them (the same
 * ordering rule as RFC 8785 for the ASCII keys used here).
 */
export function canonicalJSON(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJSON: numbers must be finite');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJSON(v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJSON: unsupported type ${typeof value}`);
  }
}

export function auditEvent(e: AuditEvent): AuditEvent {
  return { seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, outcome: e.outcome, detail: e.detail };
}

/** hash_n from hash_{n-1} and event n. */
export function chainHash(previous: Uint8Array, event: AuditEvent): Uint8Array {
  return sha256(concatBytes(previous, utf8(canonicalJSON(auditEvent(event)))));
}

export type AuditVerification = { ok: true; count: number } | { ok: false; seq: number; reason: string };

/** Walks a chain entry by entry, so a long log need not sit in memory. */
export class AuditChainVerifier {
  private previous: Uint8Array = AUDIT_GENESIS_HASH;
  private count = 0;
  private failure: { ok: false; seq: number; reason: string } | undefined;

  /** Feed the next entry in storage order; returns the failure once one is found. */
  push(entry: AuditEntry): AuditVerification | undefined {
    if (this.failure) return this.failure;
    const expectedSeq = this.count + 1;
    if (entry.seq !== expectedSeq) {
      this.failure = {
        ok: false,
        seq: entry.seq,
        reason: `expected seq ${expectedSeq}, found ${entry.seq}: an entry was removed or reordered`,
      };
      return this.failure;
    }
    let computed: Uint8Array;
    try {
      computed = chainHash(this.previous, entry);
    } catch {
      this.failure = { ok: false, seq: entry.seq, reason: 'entry is not valid JSON data: it was edited' };
      return this.failure;
    }
    if (!(entry.hash instanceof Uint8Array) || !equalBytes(computed, entry.hash)) {
      this.failure = {
        ok: false,
        seq: entry.seq,
        reason: 'hash does not match the entry and its predecessor: the entry (or one before it) was edited, removed or reordered',
      };
      return this.failure;
    }
    this.previous = computed;
    this.count++;
    return undefined;
  }

  result(): AuditVerification {
    return this.failure ?? { ok: true, count: this.count };
  }

  /** Hash of the last verified entry (hex), to anchor the chain outside the database. */
  head(): string {
    return bytesToHex(this.previous);
  }
}

/** Re-walk a whole chain given in storage (seq) order. */
export function verifyAuditChain(entries: Iterable<AuditEntry>): AuditVerification {
  const v = new AuditChainVerifier();
  for (const e of entries) {
    const bad = v.push(e);
    if (bad) return bad;
  }
  return v.result();
}
