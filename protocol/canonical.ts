// Canonical JSON for signed documents (protocol/SPEC.md §8.2): RFC 8785 JCS
// over a deliberately small JSON subset. Numbers are safe integers only, so
// the RFC 8785 §3.2.2.3 number serialisation never has to format a float and
// every implementation (in any language) agrees byte for byte.
import canonicalize from 'canonicalize';
import { utf8 } from './bytes.js';

/** The JSON values a signed document may contain (protocol/SPEC.md §8.2). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Why a value is not canonicalisable; stable names, used by the vectors. */
export type CanonicalRule =
  | 'not-integer'
  | 'unsafe-integer'
  | 'negative-zero'
  | 'undefined'
  | 'bigint'
  | 'type'
  | 'non-plain-object'
  | 'symbol-key'
  | 'sparse-array'
  | 'cycle'
  | 'lone-surrogate';

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  constructor(
    /** Where the offending value sits, e.g. `parties[1].agency`; "" is the value itself. */
    readonly path: string,
    readonly rule: CanonicalRule,
    detail: string,
  ) {
    super(`${path === '' ? '(root)' : path}: ${detail}`);
  }
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `a.b`, `a[1]`, and `a["odd key"]` for keys that are not identifiers. */
function member(path: string, key: string): string {
  if (IDENT_RE.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function check(value: unknown, path: string, stack: Set<object>): void {
  switch (typeof value) {
    case 'string':
      // A lone surrogate has no UTF-8 encoding; TextEncoder would silently
      // replace it with U+FFFD, so two different strings would sign the same.
      if (hasLoneSurrogate(value)) throw new CanonicalJsonError(path, 'lone-surrogate', 'string contains a lone surrogate');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isInteger(value)) throw new CanonicalJsonError(path, 'not-integer', 'numbers must be integers (no fractions, NaN or infinities)');
      if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(path, 'unsafe-integer', 'integers must be within ±(2^53 − 1)');
      // JCS writes -0 as "0": refusing it keeps the encoding injective.
      if (Object.is(value, -0)) throw new CanonicalJsonError(path, 'negative-zero', '-0 is not allowed');
      return;
    case 'undefined':
      throw new CanonicalJsonError(path, 'undefined', 'undefined is not JSON');
    case 'bigint':
      throw new CanonicalJsonError(path, 'bigint', 'bigint is not JSON; use a safe integer or a string');
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(path, 'type', `${typeof value} is not JSON`);
  }
  if (value === null) return;
  if (stack.has(value)) throw new CanonicalJsonError(path, 'cycle', 'the value contains itself');
  stack.add(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw new CanonicalJsonError(path, 'non-plain-object', 'arrays must be plain arrays');
    for (let i = 0; i < value.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(value, i)) throw new CanonicalJsonError(`${path}[${i}]`, 'sparse-array', 'arrays must not have holes');
      check(value[i], `${path}[${i}]`, stack);
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    // Dates, Maps, class instances and objects with toJSON would serialise to
    // something other than what the signer looked at.
    if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(path, 'non-plain-object', 'only plain objects are allowed');
    if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalJsonError(path, 'symbol-key', 'objects must not have symbol keys');
    for (const key of Object.keys(value)) {
      const p = member(path, key);
      if (hasLoneSurrogate(key)) throw new CanonicalJsonError(p, 'lone-surrogate', 'key contains a lone surrogate');
      // A getter could answer differently when the value is serialised than when it was checked.
      if (Object.getOwnPropertyDescriptor(value, key)?.get) throw new CanonicalJsonError(p, 'non-plain-object', 'accessor properties are not allowed');
      check((value as Record<string, unknown>)[key], p, stack);
    }
  }
  stack.delete(value);
}

/** Throws CanonicalJsonError (naming the path and rule) unless `value` is in the §8.2 subset. */
export function assertCanonicalJson(value: unknown): asserts value is JsonValue {
  check(value, '', new Set());
}

/** RFC 8785 JCS text of a §8.2 value. */
export function canonicalJsonText(value: unknown): string {
  assertCanonicalJson(value);
  const text = canonicalize(value);
  if (text === undefined) throw new CanonicalJsonError('', 'undefined', 'value has no JSON form');
  return text;
}

/** RFC 8785 JCS of a §8.2 value, UTF-8 encoded: the bytes that get hashed and signed. */
export function canonicalJson(value: unknown): Uint8Array {
  return utf8(canonicalJsonText(value));
}
