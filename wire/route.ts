// How a route of the contract is written down: a `createRoute` definition
// (OpenAPI 3.1 operation: method, path, parameters, body, responses) that the
// coordinator mounts, the SDK calls and /openapi.json documents.
import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import { COVERED_COMPONENTS, EPOCH_FIELD, MAX_SIGNATURE_AGE_S, SIGNATURE_ALG, SIGNATURE_LABEL, SIGNATURE_TAG } from '../protocol/http-signature.js';
import { BINARY_TYPE, CONTENT_DIGEST_HEADER, JSON_TYPE, PROBLEM_TYPE, RETRY_AFTER_HEADER, SIGNATURE_HEADER, SIGNATURE_INPUT_HEADER } from './headers.js';
import { problemSchema } from './problems.js';

/** The OpenAPI security scheme name of the request signature. */
export const SIGNATURE_SCHEME = 'httpMessageSignature';

/**
 * RFC 9421 is not one of OpenAPI's security scheme types; an `apiKey` in the
 * `Signature` header is the closest, and its description says the rest.
 */
export const signatureSecurityScheme = {
  type: 'apiKey',
  in: 'header',
  name: SIGNATURE_HEADER,
  description:
    `RFC 9421 HTTP Message Signature with Ed25519 (label \`${SIGNATURE_LABEL}\`, \`tag="${SIGNATURE_TAG}"\`, \`alg="${SIGNATURE_ALG}"\`) ` +
    `covering \`${COVERED_COMPONENTS.map((c) => `"${c}"`).join(' ')}\`, and \`"${EPOCH_FIELD}"\` when the request carries it, ` +
    'with parameters `created`, `keyid`, `nonce`; ' +
    `\`keyid\` is the agency id or \`admin\`. \`created\` must be within ${MAX_SIGNATURE_AGE_S} s of the coordinator clock and ` +
    'a nonce is accepted once per key. `Content-Digest` (RFC 9530, `sha-256`) covers the body, also an empty one (src/API.md, "Authentication").',
} as const;

/**
 * The three headers every signed request carries (src/API.md,
 * "Authentication"); named, so the document states them once
 * (components/parameters) and every route refers to them.
 */
export const signatureInputParam = z.string().openapi('SignatureInput', {
  param: { name: SIGNATURE_INPUT_HEADER, in: 'header' },
  description: 'RFC 9421 §4.1 signature parameters of `sig1`.',
  example: `${SIGNATURE_LABEL}=(${COVERED_COMPONENTS.map((c) => `"${c}"`).join(' ')});created=1767225600;keyid="ES-CNP";nonce="…";alg="${SIGNATURE_ALG}";tag="${SIGNATURE_TAG}"`,
});
export const signatureParam = z.string().openapi('Signature', {
  param: { name: SIGNATURE_HEADER, in: 'header' },
  description: 'RFC 9421 §4.2 Ed25519 signature of `sig1`.',
  example: 'sig1=:…:',
});
export const contentDigestParam = z.string().openapi('ContentDigest', {
  param: { name: CONTENT_DIGEST_HEADER, in: 'header' },
  description: 'RFC 9530 SHA-256 digest of the body (also of an empty body).',
  example: 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:',
});

export const signatureHeaders = z.object({
  [SIGNATURE_INPUT_HEADER]: signatureInputParam,
  [SIGNATURE_HEADER]: signatureParam,
  [CONTENT_DIGEST_HEADER]: contentDigestParam,
});

/** The refusals every signed route may answer, stated once (components/responses). */
export const SIGNED_ROUTE_PROBLEMS = {
  SignatureRefused: { status: 401, description: '`signature`: the request signature was refused (`reason` says why).' },
  Forbidden: { status: 403, description: '`forbidden` (wrong key role, not a party) or a route-specific refusal.' },
  TooLarge: { status: 413, description: '`too-large`: the body exceeds the limit.' },
  ValidationFailed: { status: 422, description: '`validation`: `field` names the failing field.' },
  Problem: { status: 'default', description: 'Any other refusal or failure, as an RFC 9457 problem document.' },
} as const;

const signedRouteProblems = Object.fromEntries(
  Object.entries(SIGNED_ROUTE_PROBLEMS).map(([name, { status }]) => [status, { $ref: `#/components/responses/${name}` }]),
);

export function jsonContent<S extends z.ZodType>(schema: S) {
  return { [JSON_TYPE]: { schema } } as { 'application/json': { schema: S } };
}

/** A JSON success response. */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: jsonContent(schema) };
}

/** A JSON request body; an empty body reads as `{}`. */
export function jsonBody<S extends z.ZodType>(schema: S, description?: string) {
  return { required: true, ...(description ? { description } : {}), content: jsonContent(schema) };
}

/** Packed fixed-size values (elements or tokens), no framing. */
export function binaryContent() {
  return { [BINARY_TYPE]: { schema: { type: 'string' as const, contentMediaType: BINARY_TYPE } } };
}

export function problemResponse(description: string, headers?: z.ZodObject) {
  return { description, ...(headers ? { headers } : {}), content: { [PROBLEM_TYPE]: { schema: problemSchema } } };
}

export const retryAfterHeaders = z.object({
  [RETRY_AFTER_HEADER]: z.string().meta({ description: 'Seconds until the quota resets (RFC 9110 §10.2.3).' }),
});

type RouteInput = Omit<RouteConfig, 'path'> & { path: string };

/** A route every caller reaches without a signature (GET /, /openapi.json). */
export function publicRoute<const R extends RouteInput>(r: R) {
  return createRoute(r);
}

/**
 * A signed `/v1` route: the signature headers, the security requirement, and
 * the problem documents every such route may answer (401 signature, 403
 * role, 413 body limit, 422 validation, 500) beside its own.
 */
export function signedRoute<const R extends RouteInput>(r: R) {
  const own = r.request?.headers;
  const headers = own instanceof z.ZodObject ? signatureHeaders.extend(own.shape) : signatureHeaders;
  return createRoute({
    ...r,
    security: [{ [SIGNATURE_SCHEME]: [] }],
    request: { ...r.request, headers },
    responses: { ...signedRouteProblems, ...r.responses },
  }) as R & { getRoutingPath(): string };
}

/** A route definition of the contract. */
export type WireRoute = RouteConfig;

type JsonSchemaOf<X> = X extends { content: { 'application/json': { schema: infer S extends z.ZodType } } } ? S : never;

/** The schema of a route's JSON success answer (200 or 201; the same schema where it has both). */
export type OkSchema<R extends { responses: object }> = JsonSchemaOf<R['responses'][Extract<keyof R['responses'], 200 | 201>]>;

export function okSchema<R extends WireRoute>(route: R): OkSchema<R> {
  for (const status of [200, 201]) {
    const response = route.responses[status] as { content?: Record<string, { schema?: unknown } | undefined> } | undefined;
    const schema = response?.content?.[JSON_TYPE]?.schema;
    if (schema instanceof z.ZodType) return schema as OkSchema<R>;
  }
  throw new TypeError(`${route.method.toUpperCase()} ${route.path}: no JSON success response`);
}

type ParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | ParamNames<Rest> : never;

/** The values of a route's path parameters, by name. */
export type PathParams<P extends string> = Record<ParamNames<P>, string | number>;

/** The request path of a route, each `{name}` filled with its percent-encoded value (RFC 3986 §3.3). */
export function pathOf<P extends string>(route: { path: P }, params: PathParams<P>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String((params as Record<string, string | number>)[name])));
}
