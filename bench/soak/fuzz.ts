// (f) Property-based fuzzing (fast-check) of every route of the wire
// contract against a real `coordinator serve`, and of the watchlist import.
// Bodies, query strings, path parameters and headers are derived from the
// routes' zod schemas (as JSON Schema) and then mutated: a dropped or retyped
// member, an unknown one, random JSON, bytes that are not JSON. Binary
// uploads get random and truncated element strings with random manifests.
// Requests are signed (RFC 9421) with an agency's or the admin's key, so they
// reach validation; a few go unsigned or with a broken signature.
// The property: no 5xx, no stack trace, every refusal an RFC 9457 problem
// document whose `status` is the response's. The import's: it succeeds or
// refuses with an AgencyError naming the file, never echoing a value, and a
// refusal leaves the store as it was.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import { initAgency } from '../../clients/agency/config.js';
import { importWatchlist } from '../../clients/agency/watchlist.js';
import { AgencyError } from '../../clients/sdk/errors.js';
import { newNonce } from '../../clients/sdk/client.js';
import { openStore } from '../../clients/store/db.js';
import { hexToBytes } from '../../protocol/bytes.js';
import { signRequest } from '../../protocol/http-signature.js';
import * as wire from '../../wire/index.js';
import type { Reference, Rng, ScenarioOptions, ScenarioResult } from './scenarios.js';
import { lastLine, STACK_RE, type Trial } from './world.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  enum?: Json[];
  const?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

interface Route {
  name: string;
  method: string;
  path: string;
  body?: { kind: 'json'; schema: JsonSchema } | { kind: 'binary' };
  query?: JsonSchema;
  headers?: JsonSchema;
}

/** Every route definition the wire contract exports. */
export function wireRoutes(): Route[] {
  const out: Route[] = [];
  for (const [name, v] of Object.entries(wire)) {
    if (!v || typeof v !== 'object' || !('method' in v) || !('path' in v) || !('responses' in v)) continue;
    const r = v as { method: string; path: string; request?: { body?: { content?: Record<string, { schema: z.ZodType }> }; query?: z.ZodType; headers?: z.ZodType } };
    const content = r.request?.body?.content;
    const json = content?.['application/json']?.schema;
    const toJs = (s: z.ZodType): JsonSchema => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
    out.push({
      name,
      method: r.method.toUpperCase(),
      path: r.path,
      ...(json ? { body: { kind: 'json' as const, schema: toJs(json) } } : content ? { body: { kind: 'binary' as const } } : {}),
      ...(r.request?.query ? { query: toJs(r.request.query) } : {}),
      ...(r.request?.headers ? { headers: toJs(r.request.headers) } : {}),
    });
  }
  return out;
}

/** Values that conform to a JSON Schema (the subset zod emits), often enough to pass validation and reach the handlers. */
export function fromSchema(s: JsonSchema, defs: Record<string, JsonSchema> = s.$defs ?? {}, depth = 0): fc.Arbitrary<Json> {
  if (s.$ref) {
    const name = s.$ref.replace(/^#\/\$defs\//, '');
    const d = defs[name];
    return d && depth < 6 ? fromSchema(d, defs, depth + 1) : fc.constant(null);
  }
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map((a) => fromSchema(a, defs, depth + 1)));
  if (s.allOf && s.allOf.length > 0) return fromSchema(s.allOf[0] as JsonSchema, defs, depth + 1);
  const type = Array.isArray(s.type) ? (s.type[0] as string) : s.type;
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const req = new Set(s.required ?? []);
      const keys = Object.keys(props);
      if (keys.length === 0) return fc.constant({});
      const rec: Record<string, fc.Arbitrary<Json>> = {};
      for (const k of keys) rec[k] = fromSchema(props[k] as JsonSchema, defs, depth + 1);
      return fc.record(rec, { requiredKeys: keys.filter((k) => req.has(k)) }) as fc.Arbitrary<Json>;
    }
    case 'array': {
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((p) => fromSchema(p, defs, depth + 1))) as fc.Arbitrary<Json>;
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? min + 4, min + 4);
      return fc.array(s.items ? fromSchema(s.items, defs, depth + 1) : fc.jsonValue(), { minLength: min, maxLength: max }) as fc.Arbitrary<Json>;
    }
    case 'string': {
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= Math.max(s.maxLength ?? 256, 1) && x.length >= (s.minLength ?? 0));
        } catch {
          // a pattern JavaScript cannot compile: plain strings
        }
      }
      if (s.format === 'date') return fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 200), unit: 'binary' });
    }
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : min + 100_000);
      return fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue() as fc.Arbitrary<Json>;
  }
}

const nasty = fc.constantFrom<Json>('', ' ', '\u0000', '\uFFFF', '\uD800', '💥'.repeat(50), 'x'.repeat(70_000), -1, 0, 1e308, -0, 2 ** 53, 1.5, true, null, [], {}, [[[[[[[[[[[]]]]]]]]]]], { __proto__: { a: 1 } } as unknown as Json, '../../etc/passwd', "'; DROP TABLE agencies; --");

/** A valid-looking value with one mutation: a member dropped, retyped or added, or the whole replaced. */
function mutate(valid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 3,
      arbitrary: fc.tuple(valid, fc.nat(), fc.oneof(nasty, fc.jsonValue() as fc.Arbitrary<Json>), fc.constantFrom('drop', 'set', 'add')).map(([v, i, x, op]) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return op === 'add' ? [v, x] : x;
        const o: Record<string, Json> = { ...v };
        const keys = Object.keys(o);
        const k = keys.length > 0 ? (keys[i % keys.length] as string) : 'extra';
        if (op === 'drop') delete o[k];
        else if (op === 'set') o[k] = x;
        else o[`x${i % 7}`] = x;
        return o;
      }),
    },
    { weight: 1, arbitrary: nasty },
    { weight: 1, arbitrary: fc.jsonValue() as fc.Arbitrary<Json> },
  );
}

interface Known {
  pairs: string[];
  agreements: string[];
  epoch: string;
  agencies: Array<{ id: string; key: Uint8Array }>;
  admin: Uint8Array;
}

function pathParam(name: string, k: Known): fc.Arbitrary<string> {
  const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('..', '%2e%2e', '%00', '-1', '1e3', 'x'.repeat(300), '%F0%9F%92%A5', '~~'));
  const known: Record<string, fc.Arbitrary<string>> = {
    pair: fc.constantFrom(...k.pairs),
    index: fc.oneof(fc.nat({ max: 4 }).map(String), fc.constantFrom('-1', '9007199254740993', '0x1', '01')),
    id: fc.oneof(fc.constantFrom(...k.agreements), fc.uuid()),
    version: fc.oneof(fc.nat({ max: 3 }).map(String), fc.constantFrom('-1', '1.5', '99999999999999999999')),
    handle: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{64}$/)),
  };
  return fc.oneof({ weight: 4, arbitrary: known[name] ?? junk }, { weight: 1, arbitrary: junk }).map((v) => encodeURIComponent(v).replace(/%25/g, '%'));
}

interface Case {
  route: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  contentType?: string;
  signer: 'agency' | 'admin' | 'unsigned' | 'bad-signature';
  agency: number;
}

const enc = new TextEncoder();

function caseArb(r: Route, k: Known): fc.Arbitrary<Case> {
  const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const params = fc.tuple(...names.map((n) => pathParam(n, k)));
  const query = r.query
    ? mutate(fromSchema(r.query)).map((q) =>
        q && typeof q === 'object' && !Array.isArray(q) ? new URLSearchParams(Object.entries(q).map(([a, b]): [string, string] => [a, typeof b === 'string' ? b : JSON.stringify(b)])).toString() : '',
      )
    : fc.constantFrom('', 'x=1', 'limit=-1&limit=2');
  const epochHeader = fc.oneof({ weight: 4, arbitrary: fc.constant(k.epoch) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }).filter((s) => /^[\x21-\x7e]*$/.test(s)) });
  const headerArb = fc.record({
    epoch: fc.option(epochHeader, { nil: undefined, freq: 4 }),
    sig: fc.option(fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => `:${Buffer.from(b).toString('base64')}:`), fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s))), { nil: undefined }),
  });
  let body: fc.Arbitrary<{ bytes?: Uint8Array; type?: string }>;
  if (r.body?.kind === 'json') {
    const json = mutate(fromSchema(r.body.schema));
    body = fc.oneof(
      { weight: 8, arbitrary: json.map((j) => ({ bytes: enc.encode(JSON.stringify(j) ?? 'null'), type: 'application/json' })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ bytes: b, type: 'application/json' })) },
      { weight: 1, arbitrary: json.map((j) => ({ bytes: enc.encode(JSON.stringify(j) ?? 'null'), type: fc.sample(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', ''), 1)[0] as string })) },
    );
  } else if (r.body?.kind === 'binary') {
    // Element strings (32 bytes per element): random, truncated, empty, canonical-looking zeros, or JSON by mistake.
    body = fc.oneof(
      fc.nat({ max: 40 }).chain((n) => fc.uint8Array({ minLength: n * 32, maxLength: n * 32 })).map((b) => ({ bytes: b, type: 'application/octet-stream' })),
      fc.uint8Array({ maxLength: 100 }).map((b) => ({ bytes: b, type: 'application/octet-stream' })),
      fc.nat({ max: 8 }).map((n) => ({ bytes: new Uint8Array(n * 32), type: 'application/octet-stream' })),
      fc.constant({ bytes: enc.encode('{"positions":[1]}'), type: 'application/json' }),
    );
  } else {
    body = fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: b, type: 'application/json' })) });
  }
  const adminRoute = r.path.startsWith('/v1/admin');
  const signer = fc.oneof(
    { weight: 10, arbitrary: fc.constant<Case['signer']>(adminRoute ? 'admin' : 'agency') },
    { weight: 1, arbitrary: fc.constant<Case['signer']>(adminRoute ? 'agency' : 'admin') },
    { weight: 1, arbitrary: fc.constantFrom<Case['signer']>('unsigned', 'bad-signature') },
  );
  return fc.record({ params, query, headers: headerArb, body, signer, agency: fc.nat({ max: k.agencies.length - 1 }) }).map((c) => {
    let i = 0;
    const path = r.path.replace(/\{\w+\}/g, () => c.params[i++] as string);
    const headers: Record<string, string> = {};
    if (c.headers.epoch !== undefined) headers[wire.EPOCH_HEADER] = c.headers.epoch;
    if (c.headers.sig !== undefined && r.body?.kind === 'binary') headers[wire.CHUNK_SIGNATURE_HEADER] = c.headers.sig;
    return {
      route: r.name,
      method: r.method,
      path,
      query: c.query,
      headers,
      ...(c.body.bytes ? { body: c.body.bytes } : {}),
      ...(c.body.type !== undefined ? { contentType: c.body.type } : {}),
      signer: c.signer,
      agency: c.agency,
    };
  });
}

export interface Verdict {
  ok: boolean;
  status: number;
  why?: string;
}

/** Sends one case, signed as it says, and judges the answer. */
export async function send(base: string, c: Case, k: Known): Promise<Verdict> {
  const url = new URL(`${c.path}${c.query ? `?${c.query}` : ''}`, base);
  const body = c.body ?? new Uint8Array(0);
  const headers: Record<string, string> = { ...c.headers, accept: 'application/json, application/problem+json' };
  if (c.contentType) headers['content-type'] = c.contentType;
  if (c.signer !== 'unsigned') {
    const who = c.signer === 'admin' ? { id: 'admin', key: k.admin } : (k.agencies[c.agency] as Known['agencies'][number]);
    const covered: Record<string, string> = {};
    if (c.headers[wire.EPOCH_HEADER] !== undefined) covered[wire.EPOCH_HEADER] = c.headers[wire.EPOCH_HEADER] as string;
    const sig = signRequest({ method: c.method, url, body, headers: covered, keyid: who.id, secretKey: who.key, created: Math.floor(Date.now() / 1000), nonce: newNonce() });
    Object.assign(headers, sig);
    if (c.signer === 'bad-signature') headers.signature = `sig1=:${Buffer.alloc(64, 7).toString('base64')}:`;
  }
  let res: Response;
  try {
    res = await fetch(url, { method: c.method, headers, ...(c.body && c.method !== 'GET' ? { body: c.body as unknown as NonNullable<RequestInit['body']> } : {}), signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    return { ok: false, status: 0, why: `no answer: ${e instanceof Error ? `${e.message} ${String((e as { cause?: unknown }).cause ?? '')}` : String(e)}` };
  }
  const text = await res.text();
  if (res.status >= 500) return { ok: false, status: res.status, why: `${res.status}: ${text.slice(0, 160)}` };
  if (STACK_RE.test(text)) return { ok: false, status: res.status, why: `a stack trace in the answer` };
  if (res.status >= 400) {
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('application/problem+json')) return { ok: false, status: res.status, why: `${res.status} as ${type || 'no content type'}` };
    let p: unknown;
    try {
      p = JSON.parse(text);
    } catch {
      return { ok: false, status: res.status, why: `${res.status}: a problem document that is not JSON` };
    }
    const parsed = wire.problemSchema.safeParse(p);
    if (!parsed.success) return { ok: false, status: res.status, why: `${res.status}: not a problem document (${parsed.error.issues[0]?.path.join('.')})` };
    if ((p as { status?: unknown }).status !== res.status) return { ok: false, status: res.status, why: `${res.status}: the problem says status ${(p as { status?: unknown }).status}` };
  }
  return { ok: true, status: res.status };
}

async function knownOf(t: Trial): Promise<Known> {
  const agencies = t.agencies.map((id) => ({ id, key: hexToBytes(readFileSync(join(t.agencyDir(id), 'signing.key'), 'utf8').trim()) }));
  const admin = hexToBytes(readFileSync(join(t.coord.data, 'admin.key'), 'utf8').trim());
  const first = agencies[0] as Known['agencies'][number];
  const me = await send(t.coord.url, { route: 'getMe', method: 'GET', path: '/v1/me', query: '', headers: {}, signer: 'agency', agency: 0 }, { pairs: [], agreements: [], epoch: '', agencies, admin });
  if (!me.ok) throw new Error(`fuzz: GET /v1/me as ${first.id}: ${me.why}`);
  const body = (await (await fetchSigned(t.coord.url, '/v1/me', first.id, first.key)).json()) as { epoch: { id: string }; pairs: Array<{ pair?: string; id?: string; agreement?: { id: string } | string }> };
  const pairs = body.pairs.map((p) => p.pair ?? p.id).filter((x): x is string => typeof x === 'string');
  const agreements = body.pairs.map((p) => (typeof p.agreement === 'string' ? p.agreement : p.agreement?.id)).filter((x): x is string => typeof x === 'string');
  return { pairs: pairs.length ? pairs : ['none'], agreements: agreements.length ? agreements : ['none'], epoch: body.epoch.id, agencies, admin };
}

async function fetchSigned(base: string, path: string, keyid: string, key: Uint8Array): Promise<Response> {
  const url = new URL(path, base);
  return fetch(url, { headers: { ...signRequest({ method: 'GET', url, body: new Uint8Array(0), keyid, secretKey: key, created: Math.floor(Date.now() / 1000), nonce: newNonce() }) } });
}

export interface FuzzOptions extends ScenarioOptions {
  /** HTTP cases in all (spread over the routes); import cases are a tenth of it. */
  cases: number;
}

/**
 * Fuzzes the converged world's coordinator, then checks it still answers,
 * its audit chain verifies and the agencies still converge (results may
 * change legitimately when a random but valid request withdrew positions,
 * so they are not compared here).
 */
export async function fuzz(ref: Reference, o: FuzzOptions): Promise<ScenarioResult> {
  const t0 = performance.now();
  const diverged: string[] = [];
  const notes = new Map<string, number>();
  let failures = 0;
  let trials = 0;
  const seed = Math.floor(o.rnd() * 2 ** 31);
  const t = await ref.template.trial(ref.converged);
  try {
    await t.start();
    const known = await knownOf(t);
    const routes = wireRoutes();
    const arb = fc.oneof(...routes.map((r) => caseArb(r, known)));
    const cases = fc.sample(arb, { numRuns: o.cases, seed });
    const byRoute = new Map<string, number>();
    for (const c of cases) {
      trials++;
      const v = await send(t.coord.url, c, known);
      byRoute.set(c.route, (byRoute.get(c.route) ?? 0) + 1);
      notes.set(`${Math.floor(v.status / 100)}xx`, (notes.get(`${Math.floor(v.status / 100)}xx`) ?? 0) + 1);
      if (!v.ok) {
        failures++;
        if (diverged.length < 8) diverged.push(`${c.method} ${c.path.slice(0, 80)} (${c.route}, ${c.signer}) body ${c.body ? JSON.stringify(Buffer.from(c.body).toString('utf8').slice(0, 160)) : 'none'}: ${v.why}`);
      }
    }
    if (byRoute.size < routes.length) diverged.push(`only ${byRoute.size} of ${routes.length} routes reached`);
    o.log?.(`  fuzz: ${trials} requests over ${byRoute.size} routes (seed ${seed}), ${failures} failure(s)`);
    if (!t.coord.running) {
      failures++;
      diverged.push(`the coordinator died: ${lastLine(t.coord.err)}`);
    }
    const imp = await fuzzImport(t.dir, Math.max(20, Math.floor(o.cases / 10)), seed);
    trials += imp.trials;
    failures += imp.failures.length;
    diverged.push(...imp.failures.slice(0, 4));
    for (const [n, k] of imp.notes) notes.set(n, k);
    o.log?.(`  fuzz: ${imp.trials} import files, ${imp.failures.length} failure(s)`);
    const audit = await t.auditVerify();
    if (audit) {
      failures++;
      diverged.push(audit);
    }
  } finally {
    await t.stop();
    t.remove();
  }
  return {
    scenario: 'fuzz (routes, uploads, import)',
    trials,
    failures,
    diverged,
    notes: [...notes].map(([n, k]) => `${n}: ${k}`),
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
}

const KINDS = ['passport', 'email', 'phone', 'iban', 'name_dob', 'imei', 'bogus'];

/** A watchlist file: valid rows, then byte- and structure-level damage. */
function importFileArb(): fc.Arbitrary<{ name: string; bytes: Uint8Array; values: string[] }> {
  const row = fc.record({
    record_id: fc.oneof(fc.stringMatching(/^R-[0-9]{1,5}$/), fc.string({ maxLength: 12 })),
    kind: fc.constantFrom(...KINDS),
    value: fc.oneof(fc.stringMatching(/^ESP:P[0-9]{7}$/), fc.stringMatching(/^[a-z]{3,8}@[a-z]{3,6}\.example$/), fc.stringMatching(/^\+346[0-9]{8}$/), fc.string({ maxLength: 20, unit: 'binary' })),
  });
  const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const damage = fc.constantFrom('none', 'flip', 'truncate', 'insert', 'bom', 'utf16', 'crlf', 'nul', 'quote', 'dupcol', 'noheader', 'latin1');
  return fc.tuple(fc.array(row, { minLength: 0, maxLength: 30 }), fc.constantFrom('csv', 'jsonl', 'txt'), damage, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([rows, fmt, dmg, at, junk]) => {
    let text =
      fmt === 'jsonl'
        ? rows.map((r) => JSON.stringify(r)).join('\n')
        : [dmg === 'noheader' ? '' : dmg === 'dupcol' ? 'record_id,kind,value,value' : 'record_id,kind,value', ...rows.map((r) => [r.record_id, r.kind, r.value, ...(dmg === 'dupcol' ? ['x'] : [])].map(csvField).join(','))]
            .filter((l, i) => !(i === 0 && l === ''))
            .join('\n');
    if (dmg === 'crlf') text = text.replace(/\n/g, '\r\n');
    if (dmg === 'quote') text = `${text.slice(0, at % (text.length + 1))}"${text.slice(at % (text.length + 1))}`;
    let bytes: Uint8Array = dmg === 'latin1' ? Buffer.from(text, 'latin1') : enc.encode(text);
    const pos = bytes.length > 0 ? at % bytes.length : 0;
    if (dmg === 'flip' && bytes.length > 0) bytes[pos] = (bytes[pos] as number) ^ (1 << (at % 8));
    if (dmg === 'truncate') bytes = bytes.subarray(0, pos);
    if (dmg === 'insert') bytes = Buffer.concat([bytes.subarray(0, pos), junk, bytes.subarray(pos)]);
    if (dmg === 'nul') bytes = Buffer.concat([bytes.subarray(0, pos), Buffer.from([0]), bytes.subarray(pos)]);
    if (dmg === 'bom') bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    if (dmg === 'utf16') bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    return { name: `watchlist.${fmt}`, bytes, values: rows.map((r) => r.value).filter((v) => v.length >= 8) };
  });
}

/** Imports damaged files into a fresh agency directory, each over the last good state. */
export async function fuzzImport(work: string, n: number, seed: number): Promise<{ trials: number; failures: string[]; notes: Map<string, number> }> {
  const dir = join(work, 'fuzz-import');
  initAgency({ dir, agency: 'XX-FUZZ', coordinator: 'http://127.0.0.1:9' });
  const store = openStore(dir);
  const failures: string[] = [];
  const notes = new Map<string, number>();
  const count = (): number => store.sqlite.prepare('SELECT count(*) FROM identifiers').pluck().get() as number;
  try {
    for (const [i, f] of fc.sample(importFileArb(), { numRuns: n, seed }).entries()) {
      const file = join(work, `fuzz-${i}-${f.name}`);
      writeFileSync(file, f.bytes);
      const before = count();
      try {
        await importWatchlist(store, file, { maxWithdrawalPercent: 100 });
        notes.set('imports accepted', (notes.get('imports accepted') ?? 0) + 1);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        notes.set('imports refused', (notes.get('imports refused') ?? 0) + 1);
        if (!(e instanceof AgencyError)) failures.push(`import #${i}: ${e instanceof Error ? e.name : typeof e} (not a refusal): ${msg.slice(0, 120)}`);
        else if (!msg.includes(file)) failures.push(`import #${i}: the refusal does not name the file: ${msg.slice(0, 120)}`);
        else if (f.values.some((v) => msg.includes(v))) failures.push(`import #${i}: the refusal echoes an identifier value`);
        else if (STACK_RE.test(msg)) failures.push(`import #${i}: a stack trace in the refusal`);
        if (count() !== before) failures.push(`import #${i}: refused, yet the store changed (${before} → ${count()} identifiers)`);
      }
    }
  } finally {
    store.close();
  }
  return { trials: n, failures, notes };
}
