// Tamper-evident audit log (docs/ARCHITECTURE.md §Coordinator): an append-only hash chain.
//   hash_0 = 32 zero bytes
//   hash_n = SHA-256(hash_{n-1} ‖ UTF8(canonicalJSON(event_n)))
// event = {seq, at, actor, action, subject, outcome, detail}. Editing,
// removing or reordering an entry changes every later hash, so re-walking the
// chain finds the first entry that no longer fits. A retention purge removes
// the oldest entries and keeps a checkpoint (seq and hash of the last removed
// one) from which verification starts; the `retention.purged` entry appended
// by that purge records the checkpoint, so the chain itself vouches for it.
//
// Which entries involve an agency, and paging through them, are defined here
// once, so `coordinator audit export` and `GET /v1/audit` cannot drift apart.
// Runs on Node and Workers.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes, utf8 } from '../protocol/bytes.js';
import { AUDIT_SEALED_PATHS, auditLeafHash, sealedView, withhold, type AuditLeafView } from '../protocol/tlog.js';

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

/** The leaf hash of an entry in the transparency log (protocol/SPEC.md §9.2), every sealed part salted from `saltKey`. */
export function entryLeafHash(e: AuditEvent, saltKey: Uint8Array): Uint8Array {
  return auditLeafHash(sealedView(auditEvent(e), saltKey));
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

/** True when `value` holds the string `id` anywhere (a party list, a partner, a requester). */
function mentions(value: JsonValue, id: string): boolean {
  if (typeof value === 'string') return value === id;
  if (Array.isArray(value)) return value.some((v) => mentions(v, id));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => mentions(v, id));
  return false;
}

/** The agency acted, is the subject, is one of a pair's parties, or is named in the detail. */
export function involves(e: AuditInput, agency: string): boolean {
  return e.actor === agency || e.subject === agency || e.subject.split('~').includes(agency) || mentions(e.detail, agency);
}

/**
 * An entry as `audit export` writes it and `GET /v1/audit` returns it. With
 * prevHash it checks on its own: hash = SHA-256(prevHash ‖ canonicalJSON(event)).
 */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  outcome: string;
  detail: AuditDetail;
  /** Lower-case hex. */
  hash: string;
  /** Lower-case hex of the hash the entry was chained to. */
  prevHash: string;
  /** Salt per sealed part shown (protocol/SPEC.md §9.2): with them the entry's leaf hash is recomputable. */
  salts?: Record<string, string>;
  /** Commitment per sealed part withheld (§9.2), in place of its value and salt. */
  sealed?: Record<string, string>;
}

/** A record with the salts of all its sealed parts (protocol/SPEC.md §9.2): the full view. */
export function withSalts(r: AuditRecord, saltKey: Uint8Array): AuditRecord {
  return { ...r, salts: sealedView(r, saltKey).salts ?? {} };
}

/**
 * `shown` is `full` with the parts listed in its `redacted` withheld: each of
 * them that is sealed becomes its commitment, so the reader can still
 * recompute the leaf hash and check it against the tree. A part withheld
 * that is not sealed leaves the leaf unrecomputable.
 */
export function sealRedacted<S extends AuditRecord & { redacted?: string[] }>(full: AuditRecord, shown: S): S {
  let view: AuditLeafView = full;
  for (const path of shown.redacted ?? []) if ((AUDIT_SEALED_PATHS as readonly string[]).includes(path)) view = withhold(view, path);
  const { salts: _s, sealed: _c, ...rest } = shown;
  return { ...rest, salts: view.salts ?? {}, ...(view.sealed ? { sealed: view.sealed } : {}) } as S;
}

export function auditRecord(e: AuditEntry, prevHash: Uint8Array): AuditRecord {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    outcome: e.outcome,
    detail: e.detail,
    hash: bytesToHex(e.hash),
    prevHash: bytesToHex(prevHash),
  };
}

/** What paging through the chain needs from a store. */
export interface AuditSource {
  /** Entries with seq > afterSeq in seq order. */
  readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  getAuditCheckpoint(): Promise<AuditCheckpoint | undefined>;
}

/** Most chain rows one `GET /v1/audit` reads, however few of them involve the caller. */
export const AUDIT_SCAN_ROWS = 5000;
/** Rows per store read while scanning. */
const AUDIT_READ_ROWS = 1000;
/** Reads of the first rows of a page when a retention purge keeps moving the checkpoint underneath. */
const PREDECESSOR_ATTEMPTS = 3;

export interface AuditPage {
  entries: AuditRecord[];
  /** Pass as `after` for the next page; null once the end of the log is reached. */
  next: number | null;
}

/** Up to `n` entries after `after`, and the hash the first of them is chained to. */
async function readFrom(source: AuditSource, after: number, n: number): Promise<{ previous: Uint8Array; rows: AuditEntry[] }> {
  for (let attempt = 1; ; attempt++) {
    // Entry `after` itself, when still stored, carries the hash the next one is chained to.
    const rows = after > 0 ? await source.readAudit(after - 1, n + 1) : await source.readAudit(0, n);
    const head = rows[0];
    if (after > 0 && head?.seq === after) return { previous: head.hash, rows: rows.slice(1) };
    const page = rows.slice(0, n);
    const first = page[0];
    if (first === undefined || first.seq === 1) return { previous: AUDIT_GENESIS_HASH, rows: page };
    // The predecessor was removed by a retention purge, which kept its hash as the checkpoint.
    const checkpoint = await source.getAuditCheckpoint();
    if (checkpoint?.seq === first.seq - 1 || attempt === PREDECESSOR_ATTEMPTS) {
      // Past a purge that raced every attempt, or rows removed without one, the checkpoint is still the
      // closest stored predecessor; a removal that no purge recorded then shows in the reader's hash check.
      return { previous: checkpoint?.hash ?? AUDIT_GENESIS_HASH, rows: page };
    }
  }
}

/**
 * The entries after seq `after` that involve `agency`, oldest first, at most
 * `limit` of them, found among at most `scanRows` rows of the chain: a long
 * stretch of entries about others ends the page early with `next` set past it,
 * so no request reads an unbounded part of the log.
 */
export async function readInvolving(source: AuditSource, agency: string, after: number, limit: number, scanRows = AUDIT_SCAN_ROWS): Promise<AuditPage> {
  const entries: AuditRecord[] = [];
  let requested = Math.min(AUDIT_READ_ROWS, scanRows);
  let { previous, rows } = await readFrom(source, after, requested);
  let scanned = 0;
  for (;;) {
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i] as AuditEntry;
      if (involves(e, agency)) {
        entries.push(auditRecord(e, previous));
        if (entries.length === limit) {
          const more = i < rows.length - 1 || rows.length === requested;
          return { entries, next: more ? e.seq : null };
        }
      }
      previous = e.hash;
    }
    scanned += rows.length;
    const last = rows.at(-1);
    if (last === undefined || rows.length < requested) return { entries, next: null };
    if (scanned >= scanRows) return { entries, next: last.seq };
    requested = Math.min(AUDIT_READ_ROWS, scanRows - scanned);
    rows = await source.readAudit(last.seq, requested);
  }
}
