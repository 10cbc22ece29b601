import { fail } from './errors.js';

const KIND = 'email';
const CODE = 'email.format';

const utf8 = new TextEncoder();

// RFC 5321 §4.5.3.1.1 limits the local part to 64 octets; §4.5.3.1.3 limits a
// path to 256 octets including the angle brackets, so an address to 254.
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeEmail(value: string): string {
  // The whole address is lower-cased. RFC 5321 lets the local part be case
  // sensitive, but no mainstream provider treats it so, and recall matters
  // more here. Provider-specific folding (dots, "+tag") is not applied: it
  // would merge distinct mailboxes at providers that do not fold.
  const address = value.toLowerCase().normalize('NFKC');
  if (/[\s\p{Cc}]/u.test(address)) return fail(KIND, CODE);
  const parts = address.split('@');
  if (parts.length !== 2) return fail(KIND, CODE);
  const [local = '', domain = ''] = parts;
  if (local.length === 0 || utf8.encode(local).length > MAX_LOCAL_OCTETS) return fail(KIND, CODE);
  if (utf8.encode(address).length > MAX_ADDRESS_OCTETS) return fail(KIND, CODE);
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((label) => label.length === 0)) return fail(KIND, CODE);
  return address;
}

export const EMAIL_RULE = {
  input:
    'An address "local@domain" with exactly one "@", a local part of 1-64 octets and a domain of at least two non-empty dot-separated labels; no whitespace. Example: " John.Doe+tag@Example.COM ".',
  canonical:
    'The trimmed address in lower case (NFKC), with dots and "+tags" kept. Example: "john.doe+tag@example.com".',
} as const;
