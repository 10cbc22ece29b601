// The part of `concordat import` that turns parsed rows into identifiers:
// schema check, canonicalisation and the derived name_dob_phonetic keys. Pure
// and free of I/O, so the import runs it inline or in its worker thread
// (import-worker.ts) with the same result.
import { IdentifierError, identifierRowSchema, phoneticKeys, tryCanonicalize } from '../../protocol/identifiers/index.js';

/**
 * The identifiers derived from a valid row: the name_dob_phonetic keys of a
 * name_dob row, none for other kinds. A name the keys cannot be built from
 * (one name part) gives none; the name_dob identifier itself still counts.
 */
export function derived(kind: string, row: unknown): string[] {
  if (kind !== 'name_dob') return [];
  const value = (row as { value: string }).value.trim().normalize('NFKC').trim();
  try {
    return phoneticKeys(value);
  } catch (e) {
    if (e instanceof IdentifierError) return [];
    throw e;
  }
}

/** Validates one parsed row; returns the canonical identifier or the reason it was rejected. */
export function checkRow(
  row: unknown,
  defaultCountry: string | undefined,
): { ok: true; recordId: string; kind: string; canonical: string } | { ok: false; reason: string } {
  const r = identifierRowSchema.safeParse(row);
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'row'}: ${i.message}`).join('; ');
    return { ok: false, reason };
  }
  const c = tryCanonicalize(r.data.kind, r.data.value, defaultCountry ? { defaultCountry } : {});
  if (!c.ok) return { ok: false, reason: c.error.message };
  return { ok: true, recordId: r.data.record_id, kind: r.data.kind, canonical: c.canonical };
}

/**
 * A batch of rows checked, packed flat so it crosses a thread boundary as two
 * values: per row, `counts[i]` is -1 for a rejected row (one string follows:
 * the reason) or the number of derived keys (record id, kind, canonical form
 * and those keys follow).
 */
export interface CheckedRows {
  counts: Int16Array;
  strings: string[];
}

/**
 * Rows to check: parsed JSON values, or a CSV file's fields as record id,
 * kind and value, three per row (flat: cheaper to build and to send).
 */
export type RowInput = { rows: unknown[] } | { fields: Array<string | undefined> };

export const inputLength = (input: RowInput): number => ('rows' in input ? input.rows.length : input.fields.length / 3);

export function checkRows(input: RowInput, defaultCountry: string | undefined): CheckedRows {
  const n = inputLength(input);
  const counts = new Int16Array(n);
  const strings: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = 'rows' in input ? input.rows[i] : { record_id: input.fields[i * 3], kind: input.fields[i * 3 + 1], value: input.fields[i * 3 + 2] };
    const c = checkRow(row, defaultCountry);
    if (!c.ok) {
      counts[i] = -1;
      strings.push(c.reason);
      continue;
    }
    const keys = derived(c.kind, row);
    counts[i] = keys.length;
    strings.push(c.recordId, c.kind, c.canonical, ...keys);
  }
  return { counts, strings };
}
