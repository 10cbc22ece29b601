// Same-origin fetch wrapper for the console API. The CSRF token lives only in
// this module's memory: never in storage, never in a URL.

export class ApiError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly field: string | undefined;
  /** Seconds, from Retry-After (429). */
  readonly retryAfter: number | undefined;
  /** The problem document as sent (members beyond the standard ones, e.g. `values`). */
  readonly body: Record<string, unknown>;

  constructor(init: {
    status: number;
    slug: string;
    title: string;
    detail?: string | undefined;
    field?: string | undefined;
    retryAfter?: number | undefined;
    body?: Record<string, unknown>;
  }) {
    const parts = [init.title];
    if (init.detail && init.detail !== init.title) parts.push(init.detail);
    if (init.field) parts.push(`(field: ${init.field})`);
    super(parts.join(' — '));
    this.name = 'ApiError';
    this.status = init.status;
    this.slug = init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.field = init.field;
    this.retryAfter = init.retryAfter;
    this.body = init.body ?? {};
  }
}

let csrfToken: string | null = null;
let lastRequestAt = Date.now();

/** When the page last reached the console API: the server's idle timeout counts from there. */
export function lastActivity(): number {
  return lastRequestAt;
}
let unauthenticatedHandler: ((err: ApiError) => void) | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

/** Called for any 401 except a failed login, so the app can fall back to the login screen. */
export function onUnauthenticated(handler: (err: ApiError) => void): void {
  unauthenticatedHandler = handler;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return undefined;
}

async function problemFrom(res: Response): Promise<ApiError> {
  let body: unknown = null;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  }
  const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const typeUri = str(p['type']) ?? '';
  const slug = typeUri.startsWith('urn:concordat:console:') ? typeUri.slice('urn:concordat:console:'.length) : typeUri || `http-${res.status}`;
  return new ApiError({
    status: res.status,
    slug,
    title: str(p['title']) ?? (res.statusText || `Request failed (HTTP ${res.status})`),
    detail: str(p['detail']),
    field: str(p['field']),
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    body: p,
  });
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Do not route a 401 to the global handler (used for the login call and the initial session probe). */
  handle401?: boolean;
}

export async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const isLogin = method === 'POST' && path === '/api/session';
  if (method !== 'GET' && !isLogin && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      body: body === undefined ? null : JSON.stringify(body),
      signal: opts.signal ?? null,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError({
      status: 0,
      slug: 'network',
      title: 'The console server could not be reached',
      detail: 'Check that the local console service is running, then try again.',
    });
  }
  lastRequestAt = Date.now();
  if (!res.ok) {
    const err = await problemFrom(res);
    if (res.status === 401 && opts.handle401 !== false && err.slug !== 'bad-credentials') {
      unauthenticatedHandler?.(err);
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => request<T>('GET', path, undefined, { signal });
export const post = <T>(path: string, body: unknown): Promise<T> => request<T>('POST', path, body);
export const del = <T>(path: string): Promise<T> => request<T>('DELETE', path);

/** Builds `path?k=v…` from non-empty filter values only. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
