// What a request report says, field by field: one list for the printable
// page (ui/src/report.ts) and the PDF (report-pdf.ts). Imports types only,
// so the page's build pulls in nothing else.
import type { RequestReport } from './api-types.js';

export const FORMAT_TITLES = {
  mla: 'Request for mutual legal assistance',
  siena: 'SIENA information request',
} as const;

/** The report's fields, label and value, in the order the page and the PDF show them. */
export function reportFields(r: RequestReport): Array<[string, string]> {
  const source =
    r.source === 'query'
      ? r.queryId
        ? `Targeted query ${r.queryId}`
        : 'Targeted query by the partner'
      : 'Nightly match';
  const side = (s: string | null): string => s ?? 'no decision';
  return [
    ['Case reference', r.caseRef],
    ['Legal basis', r.legalBasis],
    ['Purpose', r.purpose],
    ['Requested from', r.partner],
    ['Match handle', r.handle],
    ['Source', source],
    ['First seen (UTC)', r.firstSeen],
    ['Proof verified', `${r.proofVerified ? 'Yes' : 'No'}: ${r.proof}`],
    ['Our record(s)', r.recordIds.length > 0 ? r.recordIds.join(', ') : 'none here (the partner holds the data)'],
    ['Matched kinds', r.kinds.length > 0 ? r.kinds.join(', ') : 'not known here'],
    ['Status', `${r.status} (ours: ${side(r.myStatus)}, partner: ${side(r.partnerStatus)})`],
    ['Requesting agency', r.agency],
    ['Prepared by', `${r.officer.name} (${r.officer.id})`],
    ['Prepared at (UTC)', r.createdAt],
    ['Report number', String(r.id)],
  ];
}

export const REPORT_FOOTNOTE =
  'This draft carries no identifier value: the partner finds the matched identifier by the handle above. ' +
  "Add what the request needs from the case file before sending it through the agency's own channel.";

