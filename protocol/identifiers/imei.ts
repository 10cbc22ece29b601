import { fail } from './errors.js';

const KIND = 'imei';

/**
 * Luhn check digit over the 14-digit IMEI body (3GPP TS 23.003 §6.2.1 and
 * Annex B): from the right, every other digit starting with the rightmost is
 * doubled, and digits of the products are summed.
 */
export function luhnCheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      const doubled = digit * 2;
      sum += doubled > 9 ? doubled - 9 : doubled;
    } else {
      sum += digit;
    }
  }
  return (10 - (sum % 10)) % 10;
}

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeImei(value: string): string {
  // "/" separates TAC from serial number on older labels (TAC/FAC/SNR), "-"
  // and spaces on current ones.
  const digits = value.replace(/[\s\-/.]/gu, '');
  if (!/^[0-9]+$/.test(digits)) return fail(KIND, 'imei.format');
  if (digits.length === 14) return digits + String(luhnCheckDigit(digits));
  if (digits.length !== 15) return fail(KIND, 'imei.format');
  if (luhnCheckDigit(digits.slice(0, 14)) !== digits.charCodeAt(14) - 48) return fail(KIND, 'imei.luhn');
  return digits;
}

export const IMEI_RULE = {
  input:
    '15-digit IMEI with Luhn check digit, or the 14-digit IMEI body without it; spaces, "-", "/" and "." ignored. Example: "49-015420-323751-8".',
  canonical: '15 digits including the Luhn check digit (3GPP TS 23.003). Example: "490154203237518".',
} as const;
