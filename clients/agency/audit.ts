// The agency's own audit trail (table audit_log): what its officers did,
// from the console or the CLI. It complements the coordinator's chain, which
// records what reached the coordinator; this one also records what never
// left the agency (logins, failed logins, exports). Never an identifier value:
// a query is recorded by kind, number of values, partners, purpose and case.
import type { Store } from '../store/db.js';

export type AuditDetailValue = string | number | boolean | null | AuditDetailValue[] | { [k: string]: AuditDetailValue };
export type AuditDetail = { [k: string]: AuditDetailValue };

export interface LocalAuditInput {
  officer: string | null;
  action: string;
  subject: string;
  outcome: 'ok' | 'refused' | 'failed';
  caseRef?: string | null;
  detail?: AuditDetail;
}

export interface LocalAuditEntry {
  seq: number;
  at: string;
  officer: string | null;
  action: string;
  subject: string;
  outcome: string;
  caseRef: string | null;
  detail: AuditDetail;
}

export function appendAudit(store: Store, e: LocalAuditInput, now = new Date()): number {
  const r = store.sqlite
    .prepare('INSERT INTO audit_log (at, officer, action, subject, outcome, case_ref, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(now.toISOString(), e.officer, e.action, e.subject, e.outcome, e.caseRef ?? null, JSON.stringify(e.detail ?? {}));
  return Number(r.lastInsertRowid);
}

export interface AuditFilter {
  /** Inclusive UTC dates YYYY-MM-DD. */
  from?: string;
  to?: string;
  officer?: string;
  caseRef?: string;
  limit?: number;
}

/** Newest first. */
export function listAudit(store: Store, f: AuditFilter = {}): LocalAuditEntry[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.from) {
    where.push('at >= ?');
    params.push(`${f.from}T00:00:00.000Z`);
  }
  if (f.to) {
    where.push('at < ?');
    params.push(nextDay(f.to));
  }
  if (f.officer) {
    where.push('officer = ?');
    params.push(f.officer);
  }
  if (f.caseRef) {
    where.push('case_ref = ?');
    params.push(f.caseRef);
  }
  const sql = `SELECT seq, at, officer, action, subject, outcome, case_ref AS caseRef, detail FROM audit_log
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
  const rows = store.sqlite.prepare(sql).all(...params, f.limit ?? 10_000) as Array<Omit<LocalAuditEntry, 'detail'> & { detail: string }>;
  return rows.map((r) => ({ ...r, detail: parseDetail(r.detail) }));
}

function parseDetail(s: string): AuditDetail {
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as AuditDetail) : {};
  } catch {
    return {};
  }
}

/** The first instant of the day after `date` (YYYY-MM-DD), ISO. */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}
