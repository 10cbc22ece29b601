// Entity tags of the agency's results and hits documents (RFC 9110 §8.8.3,
// §13.1.2): a night with nothing new answers 304 without a body. The tag is a
// digest of the exact bytes served, so equal tags mean equal documents.
import { sha256 } from '@noble/hashes/sha2.js';
import type { Context } from 'hono';
import { bytesToHex, utf8 } from '../../../protocol/bytes.js';
import type { AppEnv } from '../../context.js';

export function entityTag(body: string): string {
  return `"sha256-${bytesToHex(sha256(utf8(body)))}"`;
}

/** RFC 9110 §13.1.2: a 304 when If-None-Match lists the current tag (weak comparison; `*` matches any). */
function matches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === tag;
  });
}

/** Answers `doc` as JSON with its ETag, or 304 with the tag alone when the caller holds it already. */
export function conditionalJson(c: Context<AppEnv>, doc: unknown): Response {
  const body = JSON.stringify(doc);
  const tag = entityTag(body);
  c.header('ETag', tag);
  if (matches(c.req.header('if-none-match'), tag)) return c.body(null, 304);
  return c.body(body, 200, { 'content-type': 'application/json' });
}
