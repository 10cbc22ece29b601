// Entity tags of the agency's results and hits documents (RFC 9110 §8.8.3,
// §13.1.2): a night with nothing new answers 304 without a body, and without
// building the document. The tag is a digest of everything the document is
// built from, read before the document is: the epoch, each pair's state, mode
// and released count, and the revisions the store renews on every change to
// the matches and to the hits (src/store/schema.ts). Equal tags
// therefore mean equal documents, and a 304 costs a few small reads where
// building a document of 10^4 matches took a quarter of a second here.
// The digest is the runtime's own (WebCrypto on Node and in workerd).
import type { Context } from 'hono';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { AppEnv } from '../../context.js';

/** Bumped when a document's shape changes, so no tag of the old shape names a new document. */
const TAG_FORMAT = 1;

/** The tag of a document built from `basis` (its JSON, hashed): `"<kind>-<sha256>"`. */
export async function basisTag(kind: 'results' | 'hits', basis: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([TAG_FORMAT, kind, basis]));
  return `"${kind}-${bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))}"`;
}

/** RFC 9110 §13.1.2: a 304 when If-None-Match lists the current tag (weak comparison; `*` matches any). */
function matches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === tag;
  });
}

/**
 * Answers with `tag`: 304 when the caller holds it already, else the
 * document `build` returns, as JSON. `build` runs only for a 200.
 */
export async function conditionalJson(c: Context<AppEnv>, tag: string, build: () => Promise<unknown>): Promise<Response> {
  c.header('ETag', tag);
  if (matches(c.req.header('if-none-match'), tag)) return c.body(null, 304);
  return c.body(new TextEncoder().encode(JSON.stringify(await build())), 200, { 'content-type': 'application/json' });
}
