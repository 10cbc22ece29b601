// Entity tags of the agency's results and hits documents (RFC 9110 §8.8.3,
// §13.1.2): a night with nothing new answers 304 without a body. The tag is a
// digest of the exact bytes served, so equal tags mean equal documents.
// The digest is the runtime's own (WebCrypto on Node and in workerd): a
// results or hits document of 10^4 matches is a megabyte or more, which the
// portable SHA-256 took a tenth of a second to hash.
import type { Context } from 'hono';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { AppEnv } from '../../context.js';

export async function entityTag(body: Uint8Array): Promise<string> {
  return `"sha256-${bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', body)))}"`;
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
export async function conditionalJson(c: Context<AppEnv>, doc: unknown): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(doc));
  const tag = await entityTag(body);
  c.header('ETag', tag);
  if (matches(c.req.header('if-none-match'), tag)) return c.body(null, 304);
  return c.body(body, 200, { 'content-type': 'application/json' });
}
