import { fail } from './errors.js';

const KIND = 'email';
const CODE = 'email.format';

/** Octets of `s` in UTF-8 (`s` holds no lone surrogate: index.ts refuses those). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is 2 code units and 4 octets; other code points above
    // U+07FF are 3 octets, above U+007F 2.
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

// RFC 5321 §4.5.3.1.1 limits the local part to 64 octets; §4.5.3.1.3 limits a
// path to 256 octets including the angle brackets, so an address to 254.
// RFC 1035 §2.3.4 limits a label to 63 octets and a name to 255 octets on
// the wire, 253 characters in text without the final dot.
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;
const MAX_DOMAIN_OCTETS = 253;

const MAILTO = /^mailto:/iu;
// ASCII that may appear in a domain before IDNA: letters (already lower
// case), digits, hyphen and dot. Anything else ASCII ("_", "%", "/", "[",
// ":") is not a host name, and some of it would change the meaning of the
// WHATWG host parser's input (percent-decoding, path, port, IPv6 literal).
const DOMAIN_ASCII = /^(?:[a-z0-9.-]|[^\x00-\x7f])+$/u;
// RFC 952 / RFC 1123 §2.1 host name label (LDH), on the ASCII form.
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/u;

/**
 * RFC 6068 mailto URI: `mailto:` then the address, percent-encoded, then
 * optional `?` header fields, which are dropped. Only a single address is
 * accepted (a second one leaves two "@").
 */
function fromMailto(value: string): string {
  const rest = value.replace(MAILTO, '');
  const query = rest.indexOf('?');
  const address = query < 0 ? rest : rest.slice(0, query);
  try {
    return decodeURIComponent(address).normalize('NFKC');
  } catch {
    return fail(KIND, CODE);
  }
}

/**
 * UTS #46 ToASCII, nontransitional, as the WHATWG URL Standard's "domain to
 * ASCII" with beStrict false (CheckHyphens false, CheckBidi true,
 * CheckJoiners true, UseSTD3ASCIIRules false, Transitional_Processing false,
 * VerifyDnsLength false): U-labels become `xn--` A-labels, A-labels are
 * decoded and validated, and both spellings of one domain give one string.
 * The host parser of the platform's `URL` implements it in Node, Workers and
 * browsers alike; the DNS rules it leaves out are checked afterwards.
 */
function domainToAscii(domain: string): string {
  let host = DOMAINS.get(domain);
  if (host === undefined) {
    host = hostOf(domain);
    if (DOMAINS.size >= DOMAINS_MAX) DOMAINS.clear();
    DOMAINS.set(domain, host);
  }
  return host === '' ? fail(KIND, CODE) : host;
}

// Watchlists hold many addresses at few domains: the host parser runs once per
// domain. A pure function's results, bounded; '' marks a refused domain.
const DOMAINS = new Map<string, string>();
const DOMAINS_MAX = 4096;

/** The ASCII form of `domain`, or '' when it is not a host name. */
function hostOf(domain: string): string {
  if (!DOMAIN_ASCII.test(domain)) return '';
  let host: string;
  try {
    host = new URL(`http://${domain}/`).hostname;
  } catch {
    return '';
  }
  const labels = host.split('.');
  if (labels.length < 2 || host.length > MAX_DOMAIN_OCTETS) return '';
  if (!labels.every((label) => LDH_LABEL.test(label))) return '';
  // Every top-level domain in the root zone starts with a letter (ASCII TLDs
  // are letters, IDN TLDs "xn--"); this also refuses IPv4 addresses, which the
  // host parser would otherwise rewrite ("0x7f.1" is 127.0.0.1).
  if (!/^[a-z]/u.test(labels[labels.length - 1] ?? '')) return '';
  return host;
}

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeEmail(value: string): string {
  const written = MAILTO.test(value) ? fromMailto(value) : value;
  // The whole address is lower-cased. RFC 5321 lets the local part be case
  // sensitive, but no mainstream provider treats it so, and recall matters
  // more here. Provider-specific folding (dots, "+tag") is not applied: it
  // would merge distinct mailboxes at providers that do not fold.
  const address = written.toLowerCase().normalize('NFKC');
  if (/[\s\p{Cc}]/u.test(address)) return fail(KIND, CODE);
  const parts = address.split('@');
  if (parts.length !== 2) return fail(KIND, CODE);
  const [local = '', domain = ''] = parts;
  if (local.length === 0 || utf8Length(local) > MAX_LOCAL_OCTETS) return fail(KIND, CODE);
  // The domain is compared in its A-label (ASCII) form: the form DNS and
  // mail transport carry, and one that needs no Unicode normalisation to
  // compare. The length limits apply to the canonical address, so the
  // Unicode and the punycode spelling of one address are accepted or refused
  // together.
  const canonical = `${local}@${domainToAscii(domain)}`;
  if (utf8Length(canonical) > MAX_ADDRESS_OCTETS) return fail(KIND, CODE);
  return canonical;
}

export const EMAIL_RULE = {
  input:
    'An address "local@domain" (or a "mailto:" URI) with exactly one "@", a local part of 1-64 octets and a host name of at least two labels, in Unicode or punycode (IDNA, UTS #46); no whitespace. Example: " John.Doe+tag@Bücher.DE ".',
  canonical:
    'The address in lower case (NFKC), dots and "+tags" kept, the domain in its ASCII (A-label) form. Example: "john.doe+tag@xn--bcher-kva.de".',
} as const;
