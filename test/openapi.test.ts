// GET /openapi.json: the OpenAPI 3.1 document generated from the wire
// contract (wire/) is valid, covers every route the coordinator mounts, and
// equals the committed copy src/openapi.json. After a change to wire/,
// `npm run openapi:generate` rewrites the copy (this file, with
// CONCORDAT_OPENAPI_WRITE=1).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRoute } from '@hono/zod-openapi';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { EPOCH_FIELD } from '../protocol/http-signature.js';
import { createApp } from '../src/app.js';
import type { Store } from '../src/store/types.js';
import { parseJsonBody } from '../src/validation.js';
import { EPOCH_HEADER, pairEpochKeyBody, jsonBody, OPENAPI_PATH } from '../wire/index.js';

const COPY = fileURLToPath(new URL('../src/openapi.json', import.meta.url));

/** The document needs no storage: any use of the store fails the test. */
const noStore = new Proxy({} as Store, {
  get(_target, name) {
    throw new Error(`the OpenAPI document touched the store (${String(name)})`);
  },
});

async function served(): Promise<{ status: number; contentType: string | null; doc: Record<string, unknown> }> {
  const res = await createApp({ store: noStore }).request(OPENAPI_PATH);
  return { status: res.status, contentType: res.headers.get('content-type'), doc: (await res.json()) as Record<string, unknown> };
}

function render(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Every local `$ref` in the document (RFC 6901 pointers under `#/`). */
function refsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

function resolve<T>(doc: Record<string, unknown>, value: T): T {
  const ref = (value as { $ref?: unknown } | undefined)?.$ref;
  if (typeof ref !== 'string') return value;
  let at: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return at as T;
}

/** `/v1/queries/:id{[0-9a-f]{32}}` → `/v1/queries/{id}`. */
function openApiPath(route: string): string {
  return route.replace(/:(\w+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, '{$1}');
}

describe('GET /openapi.json', () => {
  it('serves a valid OpenAPI 3.1 document, unsigned, equal to src/openapi.json', async () => {
    const { status, contentType, doc } = await served();
    expect(status).toBe(200);
    expect(contentType).toMatch(/^application\/json/);
    if (process.env.CONCORDAT_OPENAPI_WRITE) writeFileSync(COPY, render(doc));

    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    // A difference means wire/ changed without `npm run openapi:generate` (or the copy was edited by hand).
    expect(render(doc)).toBe(readFileSync(COPY, 'utf8'));
  });

  it('documents every route the coordinator mounts, and only those', async () => {
    const app = createApp({ store: noStore });
    const { doc } = await served();
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    const documented = Object.entries(paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const mounted = [...new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path !== OPENAPI_PATH).map((r) => `${r.method} ${openApiPath(r.path)}`))].sort();
    expect(documented).toEqual(mounted);
    expect(mounted.length).toBeGreaterThan(25);
  });

  it('documents the request signature, binary bodies and problem documents', async () => {
    const { doc } = await served();
    const paths = doc.paths as Record<string, Record<string, { security?: unknown; parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, unknown> }; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    const components = doc.components as { securitySchemes: Record<string, { type: string; in: string; name: string }> };
    expect(Object.values(components.securitySchemes)).toEqual([expect.objectContaining({ type: 'apiKey', in: 'header', name: 'Signature' })]);

    expect(paths['/']?.get?.security).toBeUndefined();
    const chunk = paths['/v1/pairs/{pair}/set/chunks/{index}']?.put;
    expect(chunk?.security).toEqual([{ httpMessageSignature: [] }]);
    const headers = chunk?.parameters?.map((p) => resolve(doc, p)).filter((p) => p.in === 'header');
    expect(headers?.map((p) => p.name)).toEqual(['Signature-Input', 'Signature', 'Content-Digest', 'Concordat-Epoch', 'Concordat-Chunk-Signature']);
    expect(Object.keys(chunk?.requestBody?.content ?? {})).toEqual(['application/octet-stream']);
    expect(Object.keys(paths['/v1/pairs/{pair}/partner-set/chunks/{index}']?.get?.responses['200']?.content ?? {})).toEqual(['application/octet-stream']);
    expect(Object.keys(paths['/v1/pairs/{pair}/partner-set/chunks/{index}/tokens']?.put?.requestBody?.content ?? {})).toEqual(['application/octet-stream']);
    expect(Object.keys(resolve(doc, paths['/v1/me']?.get?.responses['401'])?.content ?? {})).toEqual(['application/problem+json']);
    expect(Object.keys(paths['/v1/queries']?.post?.responses['429']?.content ?? {})).toEqual(['application/problem+json']);
  });

  it('resolves every $ref it makes', async () => {
    const { doc } = await served();
    const refs = [...new Set(refsOf(doc))];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(resolve(doc, { $ref: ref }), ref).toBeTypeOf('object');
  });

  it('is unaudited and leaves the /v1 rules alone', async () => {
    const app = createApp({ store: noStore });
    expect((await app.request(`${OPENAPI_PATH}?x=1`)).status).toBe(200);
    expect((await app.request('/v1/openapi.json')).status).toBe(401);
  });
});

describe('the contract', () => {
  it('names the epoch header as the signature covers it', () => {
    expect(EPOCH_HEADER.toLowerCase()).toBe(EPOCH_FIELD);
  });

  it("turns a zod-openapi validation failure into the route's own 422 problem", async () => {
    const app = createApp({ store: noStore });
    // A route outside /v1 that lets zod-openapi validate its body, as a route mounted with app.openapi would.
    app.openapi(createRoute({ method: 'put', path: '/probe', request: { body: jsonBody(pairEpochKeyBody) }, responses: { 204: { description: 'ok' } } }), (c) => c.body(null, 204));
    const body = JSON.stringify({ epoch: 'e1', publicKey: 'zz', signature: '00'.repeat(64) });
    const res = await app.request('/probe', { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    let expected: unknown;
    try {
      parseJsonBody(new TextEncoder().encode(body), pairEpochKeyBody);
    } catch (e) {
      expected = (e as { toJSON(): unknown }).toJSON();
    }
    // The answer adds the request id every problem carries (src/API.md); the rest is the route's own problem.
    const { requestId, ...got } = (await res.json()) as { requestId?: unknown };
    expect(requestId).toBe(res.headers.get('x-request-id'));
    expect(got).toEqual(expected);
    expect(expected).toMatchObject({ type: 'urn:concordat:problem:validation', field: 'body.publicKey', detail: 'body.publicKey: must be 32 bytes as lower-case hex' });
  });
});
