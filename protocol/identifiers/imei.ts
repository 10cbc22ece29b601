import { fail } from './errors.js';

const KIND = 'imei';

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeImei(value: string): string {
  // "/" separates TAC from serial number on older labels (TAC/FAC/SNR), "-"
  // and spaces on current ones.
  const digits = value.replace(/[\s\-/.]/gu, '');
  if (!/^[0-9]+$/.test(digits)) return fail(KIND, 'imei.format');
  // The device is identified by TAC (8 digits) and serial number (6): the
  // 14-digit body. 3GPP TS 23.003 §6.2.1: the check digit is not transmitted
  // by the mobile station, and network records (CDRs, EIR queries) carry the
  // 15-digit form with a 0 in its place; the IMEISV replaces it with a
  // 2-digit software version. The body is what every source agrees on, so
  // the 15th and 16th digits are dropped, whatever they are.
  if (digits.length === 14 || digits.length === 15 || digits.length === 16) return digits.slice(0, 14);
  return fail(KIND, 'imei.format');
}

export const IMEI_RULE = {
  input:
    '14-digit IMEI body (TAC and serial number), 15-digit IMEI with its check digit (Luhn, or 0 as networks record it), or 16-digit IMEISV; spaces, "-", "/" and "." ignored. Example: "49-015420-323751-8".',
  canonical:
    'The 14-digit body (TAC and serial number); the check digit or software version is dropped. Example: "49015420323751".',
} as const;
