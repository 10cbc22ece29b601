// GET /openapi.json inside workerd: the Worker's app generates the same
// document as Node, equal to the committed src/openapi.json. (Validation
// against the OpenAPI 3.1 schema runs on Node, test/openapi.test.ts.)
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import committed from '../src/openapi.json' with { type: 'json' };
import type { Store } from '../src/store/types.js';
import { OPENAPI_PATH } from '../wire/index.js';

const noStore = new Proxy({} as Store, {
  get(_target, name) {
    throw new Error(`the OpenAPI document touched the store (${String(name)})`);
  },
});

describe('GET /openapi.json on Workers', () => {
  it('serves the committed document', async () => {
    const res = await createApp({ store: noStore }).request(OPENAPI_PATH);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(committed);
  });
});
