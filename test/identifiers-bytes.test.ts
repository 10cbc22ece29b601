// protocol/bytes.ts hex helpers, implemented through @noble/hashes/utils:
// the module's own API and strictness are kept, and bad input is one clear
// TypeError that names the field and never the text.
import { describe, expect, test } from 'vitest';
import { bytesToHex as nobleBytesToHex } from '@noble/hashes/utils.js';
import { bytesToHex, hexToBytes } from '../protocol/bytes.js';

describe('protocol/bytes hex helpers', () => {
  test('round-trip, either case in, lower case out, same as @noble/hashes', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = bytesToHex(bytes);
    expect(hex).toBe(nobleBytesToHex(bytes));
    expect(hex).toMatch(/^[0-9a-f]{512}$/);
    expect(hexToBytes(hex)).toEqual(bytes);
    expect(hexToBytes(hex.toUpperCase())).toEqual(bytes);
    expect(hexToBytes('')).toEqual(new Uint8Array(0));
    expect(bytesToHex(new Uint8Array(0))).toBe('');
  });

  test.each([
    ['odd length', 'abc'],
    ['a non-hex character', 'zz'],
    ['a 0x prefix', '0x00'],
    ['whitespace', '00 11'],
    ['a full-width digit', '０0'],
    ['a sign', '-1'],
  ])('refuses %s with a TypeError naming the field, not the value', (_, bad) => {
    expect(() => hexToBytes(bad, 'element')).toThrow(new TypeError('element: expected an even-length hex string'));
    try {
      hexToBytes(bad, 'element');
    } catch (e) {
      expect((e as Error).message).not.toContain(bad);
    }
  });

  test('refuses a non-string from an untyped caller', () => {
    expect(() => hexToBytes(42 as unknown as string)).toThrow(new TypeError('hex: expected an even-length hex string'));
  });
});
