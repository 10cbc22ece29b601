import { fail } from './errors.js';

const KIND = 'vin';

// ISO 3779 §5: 17 characters from the Roman capitals and Arabic numerals,
// except I, O and Q (too easily confused with 1 and 0).
const VIN_SHAPE = /^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$/;

// 49 CFR 565.15(c): position weights and letter values for the check digit.
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;
const LETTER_VALUES: Readonly<Record<string, number>> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};

/** The check digit character ('0'-'9' or 'X') a VIN's position 9 must hold. */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const ch = vin.charAt(i);
    const value = ch >= '0' && ch <= '9' ? ch.charCodeAt(0) - 48 : (LETTER_VALUES[ch] ?? 0);
    sum += value * (WEIGHTS[i] ?? 0);
  }
  const remainder = sum % 11;
  return remainder === 10 ? 'X' : String(remainder);
}

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeVin(value: string): string {
  const compact = value.replace(/[\s-]+/gu, '');
  if (!VIN_SHAPE.test(compact)) return fail(KIND, 'vin.format');
  const vin = compact.toUpperCase();
  // The check digit is mandatory only where 49 CFR 565 applies: vehicles for
  // the North American market, whose WMI region characters are 1-5. Elsewhere
  // position 9 is often a manufacturer's character, so it is not checked.
  const region = vin.charAt(0);
  if (region >= '1' && region <= '5' && vin.charAt(8) !== vinCheckDigit(vin)) {
    return fail(KIND, 'vin.check_digit');
  }
  return vin;
}

export const VIN_RULE = {
  input:
    'ISO 3779 vehicle identification number, 17 characters A-Z/0-9 without I, O, Q; spaces and "-" ignored, case-insensitive. Example: "1m8gdm9a-xkp042788".',
  canonical:
    'The 17 characters in upper case; for WMI regions 1-5 (North America) the position-9 check digit is verified. Example: "1M8GDM9AXKP042788".',
} as const;
