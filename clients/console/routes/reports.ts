// Request reports: from a match this agency confirmed, or a hit of one of
// its own queries, the fields of a mutual-legal-assistance or SIENA-style
// request, as a page to print and as a PDF written here (report-pdf.ts).
// Creating one is recorded in the local audit trail, and the entry is the
// report: the page and the PDF are rebuilt from it, so what was audited is
// what was printed. No identifier value goes in: the report names the
// partner's data by its handle and this agency's by its record references.
import { Hono } from 'hono';
import { z } from 'zod';
import { appendAudit } from '../../agency/audit.js';
import { listHits, localHitViews, type HitView } from '../../agency/hits.js';
import { CASE_REF_MAX } from '../../agency/query/request.js';
import type { MatchStatus, ReportFormat, RequestReport } from '../api-types.js';
import { ConsoleProblem, type ConsoleDeps, type ConsoleEnv } from '../context.js';
import { reportPdf } from '../report-pdf.js';
import { jsonBody } from '../validation.js';
import { pairState, requestedHits } from '../worklist-store.js';

export const LEGAL_BASIS_MAX = 300;

const reportBody = z
  .object({
    handle: z.string().regex(/^[0-9a-f]{8,128}$/, 'expected a hexadecimal match handle'),
    format: z.enum(['mla', 'siena']),
    legalBasis: z.string().trim().min(1, 'give the legal basis of the request').max(LEGAL_BASIS_MAX),
    caseRef: z.string().trim().min(1).max(CASE_REF_MAX).optional(),
    purpose: z.string().trim().min(1).max(64).optional(),
    recordId: z.string().min(1).max(200).optional(),
    /** The hit of this query (the same handle can also be a match this agency holds). */
    queryId: z.string().min(1).max(100).optional(),
  })
  .strict();

const status = (s: string | null | undefined): MatchStatus | null => (s === 'unverified' || s === 'confirmed' || s === 'declined' ? s : null);

/** The report kept in an audit entry's detail (every field but the entry's own seq, time, officer and case). */
const storedReport = z.object({
  format: z.enum(['mla', 'siena']),
  officerName: z.string(),
  agency: z.string(),
  partner: z.string(),
  source: z.enum(['nightly', 'query']),
  legalBasis: z.string(),
  purpose: z.string(),
  firstSeen: z.string(),
  proofVerified: z.boolean(),
  proof: z.string(),
  recordIds: z.array(z.string()),
  kinds: z.array(z.string()),
  queryId: z.string().optional(),
  status: z.enum(['unverified', 'confirmed', 'declined']),
  myStatus: z.enum(['unverified', 'confirmed', 'declined']).nullable(),
  partnerStatus: z.enum(['unverified', 'confirmed', 'declined']).nullable(),
});

export function reportRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const now = deps.now ?? (() => new Date());
  const confirmedHere = deps.store.sqlite.prepare("SELECT 1 FROM audit_log WHERE action = 'hit.confirm' AND outcome = 'ok' AND subject = ?");

  function load(idParam: string): RequestReport {
    if (!/^[1-9][0-9]{0,15}$/.test(idParam)) throw new ConsoleProblem(422, 'invalid', 'expected a report number', 'path.id');
    const row = deps.store.sqlite
      .prepare("SELECT seq, at, officer, subject, case_ref AS caseRef, detail FROM audit_log WHERE seq = ? AND action = 'report.create' AND outcome = 'ok'")
      .get(Number(idParam)) as { seq: number; at: string; officer: string; subject: string; caseRef: string; detail: string } | undefined;
    if (!row) throw new ConsoleProblem(404, 'not-found', 'no request report with this number');
    let parsed: z.infer<typeof storedReport>;
    try {
      parsed = storedReport.parse(JSON.parse(row.detail));
    } catch {
      throw new ConsoleProblem(500, 'internal', `audit entry ${row.seq} does not hold a readable report`);
    }
    const { officerName, ...rest } = parsed;
    return { id: row.seq, createdAt: row.at, officer: { id: row.officer, name: officerName }, handle: row.subject, caseRef: row.caseRef, ...rest } as RequestReport;
  }

  app.post('/reports', async (c) => {
    const body = await jsonBody(c, reportBody);
    const officer = c.get('session').officer;
    let hits: HitView[];
    try {
      hits = await listHits(deps.client, deps.store);
    } catch {
      // A report is for this agency's own use: the statuses as last pulled serve when the coordinator is down.
      hits = localHitViews(deps.store);
    }
    const held = body.queryId !== undefined ? undefined : hits.filter((h) => h.handle === body.handle && h.record_ids.length > 0).sort((a, b) => (a.source === b.source ? 0 : a.source === 'nightly' ? -1 : 1))[0];
    let r: Omit<RequestReport, 'id' | 'createdAt' | 'officer' | 'caseRef' | 'purpose'> & { caseRef?: string; purpose?: string };
    if (held) {
      if (held.my_status !== 'confirmed') {
        throw new ConsoleProblem(409, 'conflict', 'a request can be prepared from a match this agency confirmed, or a hit of its own query: confirm the match first');
      }
      // The coordinator's word that this agency confirmed is not enough: its own trail must hold the confirmation.
      if (!confirmedHere.get(held.handle)) {
        appendAudit(
          deps.store,
          { officer: officer.id, action: 'report.create', subject: held.handle, outcome: 'refused', detail: { reason: 'confirmation-not-recorded-here', partner: held.partner } },
          now(),
        );
        throw new ConsoleProblem(
          409,
          'conflict',
          "the coordinator reports this match confirmed by this agency, but this agency's own audit trail holds no such confirmation: no request is prepared from it",
        );
      }
      if (body.recordId !== undefined && !held.record_ids.includes(body.recordId)) {
        throw new ConsoleProblem(422, 'invalid', 'this match is not on that record', 'body.recordId');
      }
      const pair = held.source === 'nightly' ? pairState(deps.store, held.pair) : undefined;
      const proofVerified = held.source === 'nightly' && pair?.state === 'complete';
      r = {
        format: body.format as ReportFormat,
        agency: deps.agency.agency,
        partner: held.partner,
        handle: held.handle,
        source: held.source,
        legalBasis: body.legalBasis,
        firstSeen: held.created_at,
        proofVerified,
        proof:
          held.source === 'query'
            ? `the partner's query was answered by this agency, whose proof the partner checks`
            : proofVerified
              ? `the nightly pair completed, which it does only once the partner's tokens held every canary this agency planted`
              : `the nightly pair is ${pair?.state ?? 'unknown here'}: its canary check has not passed`,
        recordIds: body.recordId !== undefined ? [body.recordId] : held.record_ids,
        kinds: held.kinds,
        status: status(held.status) ?? 'unverified',
        myStatus: status(held.my_status),
        partnerStatus: status(held.partner_status),
        ...(held.case_ref ? { caseRef: held.case_ref } : {}),
        ...(held.purpose ? { purpose: held.purpose } : {}),
      };
    } else {
      const asked = requestedHits(deps.store).find((h) => h.handle === body.handle && (body.queryId === undefined || h.queryId === body.queryId));
      if (!asked) throw new ConsoleProblem(404, 'not-found', 'no match or query hit with this handle');
      if (body.recordId !== undefined) throw new ConsoleProblem(422, 'invalid', 'a hit of this agency’s own query has no record here', 'body.recordId');
      r = {
        format: body.format as ReportFormat,
        agency: deps.agency.agency,
        partner: asked.partner,
        handle: asked.handle,
        source: 'query',
        queryId: asked.queryId,
        legalBasis: body.legalBasis,
        firstSeen: asked.firstSeen,
        proofVerified: asked.proofVerified,
        proof: asked.proofVerified
          ? `the partner's DLEQ proof over value ${asked.index + 1} (${asked.kind}) of the query was checked by this agency's client (RFC 9497 §2.2.2)`
          : `the partner's answer to value ${asked.index + 1} (${asked.kind}) of the query has no checked proof`,
        recordIds: [],
        kinds: [asked.kind],
        status: asked.status,
        myStatus: null,
        partnerStatus: asked.partnerStatus,
        caseRef: asked.caseRef,
        purpose: asked.purpose,
      };
    }
    const caseRef = r.caseRef ?? body.caseRef;
    if (caseRef === undefined) throw new ConsoleProblem(422, 'invalid', 'this match carries no case reference: give the one the request is for', 'body.caseRef');
    const purpose = r.purpose ?? body.purpose;
    if (purpose === undefined) throw new ConsoleProblem(422, 'invalid', 'this match carries no purpose: give the one the request is for', 'body.purpose');
    const { handle, caseRef: _c, purpose: _p, ...detail } = r;
    const seq = appendAudit(
      deps.store,
      {
        officer: officer.id,
        action: 'report.create',
        subject: handle,
        outcome: 'ok',
        caseRef,
        detail: { ...detail, purpose, officerName: officer.name, ...(body.recordId !== undefined ? { recordId: body.recordId } : {}) },
      },
      now(),
    );
    return c.json({ report: load(String(seq)) });
  });

  app.get('/reports/:id', (c) => c.json({ report: load(c.req.param('id')) }));

  app.get('/reports/:id/pdf', async (c) => {
    const report = load(c.req.param('id'));
    const bytes = await reportPdf(report);
    const safeCase = report.caseRef.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/pdf',
      'Content-Disposition': `attachment; filename="concordat-request-${report.format}-${safeCase}-${report.id}.pdf"`,
    });
  });

  return app;
}
