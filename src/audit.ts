// Tamper-evident audit log (DESIGN.md §3): an append-only hash chain.
//   hash_0 = 32 zero bytes
//   hash_n = SHA-256(hash_{n-1} ‖ UTF8(canonicalJSON(event_n)))
// event = {seq, at, actor, action, subject, outcome, detail}. Editing,
// removing or reordering an entry changes every later hash, so re-walking the
// chain finds the first entry that no longer fits. A retention purge removes
// the oldest entries and keeps a checkpoint (seq and hash of the last removed
// one) from which verification starts; the `retention.purged` entry appended
// by that purge records the checkpoint, so the chain itself vouches for it.
// Pure: runs on Node and Workers.
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

/** Action of the entry a retention purge appends; its detail carries `auditCheckpoint`. */
export const RETENTION_PURGED = 'retention.purged';

/** The last entry removed by a retention purge. */
export interface AuditCheckpoint {
  seq: number;
  /** hash_seq, 32 bytes. */
  hash: Uint8Array;
}

/** How a checkpoint appears in the detail of a `retention.purged` entry. */
export function checkpointDetail(c: AuditCheckpoint | undefined): JsonValue {
  return c ? { seq: c.seq, hash: bytesToHex(c.hash) } : null;
}

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
  private previous: Uint8Array;
  private readonly startSeq: number;
  private count = 0;
  private failure: { ok: false; seq: number; reason: string } | undefined;
  private checkpointConfirmed: boolean;

  /** Starts from the genesis hash, or from a retention checkpoint. */
  constructor(private readonly checkpoint?: AuditCheckpoint) {
    this.previous = checkpoint ? checkpoint.hash : AUDIT_GENESIS_HASH;
    this.startSeq = checkpoint ? checkpoint.seq : 0;
    this.checkpointConfirmed = checkpoint === undefined;
  }

  /** Feed the next entry in storage order; returns the failure once one is found. */
  push(entry: AuditEntry): AuditVerification | undefined {
    if (this.failure) return this.failure;
    const expectedSeq = this.startSeq + this.count + 1;
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
    if (!this.checkpointConfirmed && entry.action === RETENTION_PURGED) {
      this.checkpointConfirmed = canonicalJSON(entry.detail.auditCheckpoint ?? null) === canonicalJSON(checkpointDetail(this.checkpoint));
    }
    this.previous = computed;
    this.count++;
    return undefined;
  }

  result(): AuditVerification {
    if (this.failure) return this.failure;
    if (!this.checkpointConfirmed && this.checkpoint) {
      // Rows were removed (and the checkpoint moved) outside a retention purge.
      return {
        ok: false,
        seq: this.checkpoint.seq,
        reason: `the purge checkpoint at seq ${this.checkpoint.seq} is not recorded by any ${RETENTION_PURGED} entry: entries were removed outside a retention purge`,
      };
    }
    return { ok: true, count: this.count };
  }

  /** Hash that precedes `seq` in the chain (for exports: each line carries its prevHash). */
  previousHash(): Uint8Array {
    return this.previous;
  }

  /** Hash of the last verified entry (hex), to anchor the chain outside the database. */
  head(): string {
    return bytesToHex(this.previous);
  }
}

/** Re-walk a whole chain given in storage (seq) order, from a retention checkpoint if there is one. */
export function verifyAuditChain(entries: Iterable<AuditEntry>, checkpoint?: AuditCheckpoint): AuditVerification {
  const v = new AuditChainVerifier(checkpoint);
  for (const e of entries) {
    const bad = v.push(e);
    if (bad) return bad;
  }
  return v.result();
}
