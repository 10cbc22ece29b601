// The wire contract of the coordinator API v1 (src/API.md), in one place:
// header names, limits, problem slugs, and for every route its definition
// (method, path, parameters, body, responses) with zod schemas.
//
// The rule: a route exists once, here. The coordinator mounts the handler on
// the definition (src/routes/), the SDK calls it and parses the answer with
// the definition's response schema (clients/sdk/), and GET /openapi.json
// documents it. A new endpoint or field is one change in this folder that all
// three pick up; then `npm run openapi:generate` refreshes src/openapi.json.
//
// Imports only zod (via @hono/zod-openapi's `z`, which adds `.openapi()`),
// `createRoute` and protocol/: never src/ or clients/.
export * from './headers.js';
export * from './limits.js';
export * from './problems.js';
export * from './primitives.js';
export * from './route.js';
export * from './components.js';
export * from './service.js';
export * from './admin.js';
export * from './agency.js';
export * from './agreements.js';
export * from './pairs.js';
export * from './queries.js';
export * from './hits.js';
export * from './audit.js';
