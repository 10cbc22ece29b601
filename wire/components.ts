// The named parts the route definitions refer to by `$ref`: the problem
// schema, the signature and epoch headers, the refusals every signed route may
// answer, and the security scheme. The app that serves the document registers
// them once (src/app.ts).
import type { z } from '@hono/zod-openapi';
import { PROBLEM_TYPE } from './headers.js';
import { chunkSignatureParam, epochParam } from './pairs.js';
import { problemSchema } from './problems.js';
import { contentDigestParam, SIGNATURE_SCHEME, SIGNED_ROUTE_PROBLEMS, signatureInputParam, signatureParam, signatureSecurityScheme } from './route.js';

/** What registerComponents needs of an OpenAPI registry (@hono/zod-openapi's `app.openAPIRegistry`). */
export interface ComponentRegistry {
  register(refId: string, schema: z.ZodType): unknown;
  registerParameter(refId: string, schema: z.ZodType): unknown;
  registerComponent(type: 'responses' | 'securitySchemes', name: string, component: object): unknown;
}

const PARAMETERS = { SignatureInput: signatureInputParam, Signature: signatureParam, ContentDigest: contentDigestParam, ConcordatEpoch: epochParam, ConcordatChunkSignature: chunkSignatureParam };

export function registerComponents(registry: ComponentRegistry): void {
  registry.register('Problem', problemSchema);
  for (const [refId, schema] of Object.entries(PARAMETERS)) registry.registerParameter(refId, schema);
  for (const [name, { description }] of Object.entries(SIGNED_ROUTE_PROBLEMS)) {
    registry.registerComponent('responses', name, { description, content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } });
  }
  registry.registerComponent('securitySchemes', SIGNATURE_SCHEME, signatureSecurityScheme);
}
