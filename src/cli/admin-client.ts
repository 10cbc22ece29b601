// Signed admin requests (RFC 9421 via protocol/http-signature.ts) over Node's fetch.
import { signRequest, toBase64 } from '../../protocol/http-signature.js';
import { utf8 } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/rng.js';
import { ADMIN_KEYID } from '../auth.js';

function nonce(): string {
  return toBase64(randomBytes(24)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secretKey: Uint8Array,
  ) {}

  get(path: string): Promise<unknown> {
    return this.request('GET', path);
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  put(path: string, body: unknown): Promise<unknown> {
    return this.request('PUT', path, body);
  }

  async request(method: string, path: string, json?: unknown): Promise<unknown> {
    let url: URL;
    try {
      url = new URL(path, this.baseUrl);
    } catch {
      throw new Error(`not a URL: ${this.baseUrl}`);
    }
    const body = json === undefined ? new Uint8Array(0) : utf8(JSON.stringify(json));
    const headers: Record<string, string> = signRequest({
      method,
      url,
      body,
      keyid: ADMIN_KEYID,
      secretKey: this.secretKey,
      created: Math.floor(Date.now() / 1000),
      nonce: nonce(),
    });
    if (json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(json === undefined ? {} : { body }) });
    } catch (err) {
      throw new Error(`cannot reach the coordinator at ${url.origin}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as { title?: string; detail?: string; field?: string };
      const field = p.field ? ` (field ${p.field})` : '';
      throw new Error(`${res.status} ${p.title ?? res.statusText}: ${p.detail ?? 'no detail'}${field}`);
    }
    return parsed;
  }
}
