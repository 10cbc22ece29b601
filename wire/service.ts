// The unauthenticated routes (src/API.md, "Unauthenticated") and what the
// OpenAPI document says about the service as a whole.
import { z } from '@hono/zod-openapi';
import { jsonResponse, problemResponse, publicRoute } from './route.js';

import { PROTOCOL_NAME } from './protocol-name.js';

export { PROTOCOL_NAME };

export const serviceResponse = z.object({
  service: z.string(),
  version: z.string(),
  protocol: z.string().meta({ description: `The PSI protocol the coordinator speaks: \`${PROTOCOL_NAME}\`. A client checks it before its first signed call.` }),
  epoch: z.string().meta({ description: 'The current epoch id.' }),
});

export const getService = publicRoute({
  method: 'get',
  path: '/',
  tags: ['service'],
  summary: 'Service name, version, protocol and current epoch (unsigned)',
  responses: { 200: jsonResponse(serviceResponse, 'The service.') },
});

export const healthResponse = z.object({ status: z.literal('ok') });

/** Liveness: the process answers HTTP. Touches no storage; unsigned and unaudited. */
export const getHealthz = publicRoute({
  method: 'get',
  path: '/healthz',
  tags: ['service'],
  summary: 'Liveness: the process is up (unsigned, unaudited, no storage read)',
  responses: { 200: jsonResponse(healthResponse, 'The process answers.') },
});

export const readyResponse = z.object({
  status: z.literal('ready'),
  epoch: z.string().meta({ description: 'The current epoch id, read from the database.' }),
});

/** Readiness: the database answers, is migrated and initialised (one read of the current epoch). Unsigned and unaudited. */
export const getReadyz = publicRoute({
  method: 'get',
  path: '/readyz',
  tags: ['service'],
  summary: 'Readiness: the database is reachable, migrated and initialised (unsigned, unaudited)',
  responses: {
    200: jsonResponse(readyResponse, 'Ready to serve the API.'),
    503: problemResponse('`unavailable`: the database cannot be read, is not migrated or not initialised.'),
  },
});

/** Where the coordinator serves its OpenAPI 3.1 document (unsigned, unaudited). */
export const OPENAPI_PATH = '/openapi.json';

/** The document's fixed members; the coordinator adds its version. */
export function openApiObject(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Concordat coordinator API',
      version,
      description:
        'Privacy-preserving cross-jurisdiction matching: agencies upload blinded ristretto255 elements and tokens; the coordinator matches them and never sees an identifier. ' +
        'Generated from the wire contract (wire/); the prose contract is src/API.md. Every `/v1` request carries an RFC 9421 signature; every refusal is an RFC 9457 problem document.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'service' },
      { name: 'admin', description: 'keyid `admin` only' },
      { name: 'agency' },
      { name: 'agreements', description: 'signed agreement versions (protocol/SPEC.md §8.6)' },
      { name: 'pairs' },
      { name: 'queries' },
      { name: 'hits' },
      { name: 'audit' },
    ],
  };
}
