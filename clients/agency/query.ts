// `concordat query`: targeted hit/no-hit queries (protocol/SPEC.md §3.2, src/API.md "Targeted queries").
//
// Each value is blinded with a fresh scalar r and only r·HashToGroup(x) leaves
// this process. The partner's responder answers k_B·(r·H(x)) with a batched
// DLEQ proof against its published epoch key; this client verifies the proof
// itself (the coordinator's `proofValid` is only a relay's opinion), unblinds,
// applies its own epoch key and looks the resulting token up among the tokens
// it computed for the partner's set in the nightly flow. A proof that does not
// verify is an ERROR for that partner — never a "no hit".
//
// The blinds are kept in the local store until every leg is answered (and its
// outcome reported) or expired, so `query --status ID` can finish a query
// whose partner was offline when it was asked.
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES, epochInfo } from '../../protocol/constants.js';
import type { Engine } from '../../protocol/engine/index.js';
import { DecodeError, ProofError, ProtocolError } from '../../protocol/errors.js';
import { identifierInput, isIdentifierKind, IDENTIFIER_KINDS, tryCanonicalize, type IdentifierKind } from '../../protocol/identifiers/index.js';
import { deriveKeyPair, type KeyPair } from '../../protocol/keys.js';
import { blindQuery, finishQuery, MAX_QUERY_VALUES } from '../../protocol/query.js';
import { randomBytes } from '../../protocol/rng.js';
import type { CreateQueryReply, Me, MePair, OutcomeLeg, PairStatus, QueryLeg, QueryState } from '../sdk/api.js';
import type { CoordinatorClient } from '../sdk/client.js';
import { AgencyError, CoordinatorError, EXIT, UsageError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { appendAudit } from './audit.js';
import type { Agency } from './config.js';
import { OFFICER_MAX, printable } from './hits.js';

export const CASE_REF_MAX = 100;

export interface QueryValues {
  values: string[];
  /** 1-based line of each value in the --values file (absent for --value). */
  lines?: number[];
}

/** One value per line; blank lines are skipped (a trailing newline is not a value). */
export function readValuesFile(path: string): QueryValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--values: cannot read ${path}`);
  }
  const values: string[] = [];
  const lines: number[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      values.push(line);
      lines.push(i + 1);
    });
  return { values, lines };
}

/** Canonical forms of the values, in order; the first bad one is refused by index, line and rule, never by value. */
export function canonicalizeValues(kind: string, v: QueryValues, defaultCountry?: string): string[] {
  if (!isIdentifierKind(kind)) throw new UsageError(`--kind: not an identifier kind (expected one of ${IDENTIFIER_KINDS.join(', ')})`);
  if (v.values.length === 0) throw new UsageError('no value to query (--value V, or --values FILE with one value per line)');
  if (v.values.length > MAX_QUERY_VALUES) {
    throw new UsageError(`${v.values.length} values: a query carries at most ${MAX_QUERY_VALUES} (split the file)`);
  }
  return v.values.map((raw, i) => {
    const r = tryCanonicalize(kind, raw, defaultCountry ? { defaultCountry } : undefined);
    if (!r.ok) {
      const where = v.lines ? `value ${i} (line ${v.lines[i]})` : `value ${i}`;
      throw new UsageError(`${where}: ${r.error.message}`);
    }
    return r.canonical;
  });
}

export interface QueryRequest {
  /** Explicit partners, or undefined with `all`. */
  partners?: string[];
  all?: boolean;
  kind: string;
  purpose: string;
  caseRef: string;
  officer: string;
}

export function checkRequest(r: QueryRequest): void {
  if (r.caseRef.length < 1 || r.caseRef.length > CASE_REF_MAX) throw new UsageError(`--case: 1..${CASE_REF_MAX} characters`);
  if (r.officer.length < 1 || r.officer.length > OFFICER_MAX) throw new UsageError(`--officer: 1..${OFFICER_MAX} characters`);
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(r.purpose)) throw new UsageError('--purpose: expected a purpose of the deployment, e.g. terrorism or drug_trafficking');
  if (r.all && r.partners && r.partners.length > 0) throw new UsageError('give either --partner or --all, not both');
  if (!r.all && (!r.partners || r.partners.length === 0)) throw new UsageError('give --partner ID (repeatable) or --all');
}

/** Does this pair's agreement allow a targeted query of `kind` for `purpose`? (The coordinator decides; this picks partners for --all.) */
export function pairAllows(p: MePair, kind: string, purpose: string): boolean {
  return p.mode === 'reveal' && p.kinds.includes(kind) && (p.purposes === undefined || p.purposes.includes(purpose));
}

/**
 * The pair a query leg runs under: the coordinator uses the first matching
 * agreement by id, so the hit check must use that pair's tokens.
 */
export function pairFor(me: Me, partner: string, kind: string, purpose: string): MePair | undefined {
  return me.pairs
    .filter((p) => p.partner === partner && pairAllows(p, kind, purpose))
    .sort((a, b) => (a.agreement < b.agreement ? -1 : a.agreement > b.agreement ? 1 : 0))[0];
}

export function partnersFor(me: Me, r: QueryRequest): string[] {
  if (!r.all) return [...new Set(r.partners ?? [])];
  const partners = [...new Set(me.pairs.filter((p) => pairAllows(p, r.kind, r.purpose)).map((p) => p.partner))].sort();
  if (partners.length === 0) {
    throw new AgencyError(`--all: no partner has a valid reveal agreement with this agency that allows ${r.kind} queries for purpose ${r.purpose}`);
  }
  return partners;
}

// ---- results ----

export interface ValueResult {
  index: number;
  hit: boolean;
  handle?: string;
}

export type LegState = 'done' | 'error' | 'expired' | 'pending' | 'incomplete';

export interface LegReport {
  partner: string;
  state: LegState;
  epoch?: string;
  /** bad-proof | key-mismatch | unanswered | incomplete | … */
  error?: string;
  detail?: string;
  results?: ValueResult[];
}

export interface QueryReport {
  queryId: string;
  kind: string;
  purpose: string;
  caseRef: string;
  values: number;
  legs: LegReport[];
}

export interface QueryContext {
  agency: Agency;
  store: Store;
  client: CoordinatorClient;
  engine: Engine;
  warn?: (line: string) => void;
  /** Seconds since the Unix epoch (tests). */
  now?: () => number;
}

/** Creates the query at the coordinator and records it (with its blinds) locally. Returns the query id. */
export async function createQuery(ctx: QueryContext, r: QueryRequest, canonical: string[], me?: Me): Promise<string> {
  checkRequest(r);
  const kind = r.kind as IdentifierKind;
  const partners = r.all ? partnersFor(me ?? (await ctx.client.me()), r) : [...new Set(r.partners ?? [])];
  const inputs = canonical.map((c) => identifierInput(kind, c));
  const q = blindQuery(CONCORDAT_SUITE, ctx.engine, inputs, randomBytes);
  const audit = { officer: r.officer, action: 'query.create', caseRef: r.caseRef };
  const asked = { kind, purpose: r.purpose, partners, values: canonical.length };
  let reply: CreateQueryReply;
  try {
    reply = await ctx.client.createQuery({
      partners,
      kind,
      purpose: r.purpose,
      caseRef: r.caseRef,
      officer: r.officer,
      blinded: q.blinded.map(bytesToHex),
    });
  } catch (e) {
    if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) {
      appendAudit(ctx.store, { ...audit, subject: 'query', outcome: 'refused', detail: { ...asked, reason: e.slug ?? String(e.status) } });
    }
    throw e;
  }
  const db = ctx.store.sqlite;
  db.transaction(() => {
    db.prepare(
      'INSERT INTO queries (id, created_at, kind, purpose, case_ref, officer, values_count, blinds, blinded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(reply.queryId, new Date().toISOString(), kind, r.purpose, r.caseRef, r.officer, canonical.length, Buffer.concat(q.blinds), Buffer.concat(q.blinded));
    const leg = db.prepare("INSERT INTO query_legs (query_id, partner, state) VALUES (?, ?, 'pending')");
    for (const l of reply.legs.length > 0 ? reply.legs : partners.map((partner) => ({ partner }))) leg.run(reply.queryId, l.partner);
    appendAudit(ctx.store, { ...audit, subject: reply.queryId, outcome: 'ok', detail: asked });
  })();
  return reply.queryId;
}

interface LocalQuery {
  id: string;
  kind: string;
  purpose: string;
  caseRef: string;
  values: number;
  blinds: Uint8Array[] | null;
  blinded: Uint8Array[] | null;
}

function split(b: Buffer | null): Uint8Array[] | null {
  if (!b) return null;
  const out: Uint8Array[] = [];
  for (let o = 0; o < b.length; o += ELEMENT_BYTES) out.push(new Uint8Array(b.subarray(o, o + ELEMENT_BYTES)));
  return out;
}

function loadLocal(store: Store, id: string): LocalQuery {
  const row = store.sqlite
    .prepare('SELECT id, kind, purpose, case_ref AS caseRef, values_count AS "values", blinds, blinded FROM queries WHERE id = ?')
    .get(id) as { id: string; kind: string; purpose: string; caseRef: string; values: number; blinds: Buffer | null; blinded: Buffer | null } | undefined;
  if (!row) throw new AgencyError(`query ${id} was not asked from this agency directory (its blinds live only where it was asked)`);
  return { ...row, blinds: split(row.blinds), blinded: split(row.blinded) };
}

/** The stored state of a query: final legs with their results, the rest pending. */
export function localReport(store: Store, id: string): QueryReport {
  const q = loadLocal(store, id);
  const legs = store.sqlite
    .prepare('SELECT partner, state, epoch, error, detail FROM query_legs WHERE query_id = ? ORDER BY rowid')
    .all(id) as Array<{ partner: string; state: LegState; epoch: string | null; error: string | null; detail: string | null }>;
  const results = store.sqlite.prepare('SELECT value_index AS "index", hit, handle FROM query_results WHERE query_id = ? AND partner = ? ORDER BY value_index');
  return {
    queryId: q.id,
    kind: q.kind,
    purpose: q.purpose,
    caseRef: q.caseRef,
    values: q.values,
    legs: legs.map((l) => {
      const leg: LegReport = { partner: l.partner, state: l.state };
      if (l.epoch) leg.epoch = l.epoch;
      if (l.error) leg.error = l.error;
      if (l.detail) leg.detail = l.detail;
      if (l.state === 'done') {
        leg.results = (results.all(id, l.partner) as Array<{ index: number; hit: number; handle: string | null }>).map((r) => ({
          index: r.index,
          hit: r.hit === 1,
          ...(r.handle ? { handle: r.handle } : {}),
        }));
      }
      return leg;
    }),
  };
}

function isFinal(s: LegState): boolean {
  return s === 'done' || s === 'error' || s === 'expired';
}

interface Finished {
  partner: string;
  epoch: string;
  outcome: OutcomeLeg;
  state: 'done' | 'error' | 'expired';
  error?: string;
  detail?: string;
  /** Per value, for done legs. */
  hits?: boolean[];
}

/**
 * Follows a query until every leg is final or `timeoutSeconds` pass:
 * long-polls the coordinator, finishes answered legs (proof, unblind, token
 * check), reports their outcome and reads the handles back. A query already
 * closed locally is returned from the store without a request.
 */
export async function followQuery(ctx: QueryContext, id: string, timeoutSeconds: number, o: { fresh?: boolean } = {}): Promise<QueryReport> {
  const now = ctx.now ?? (() => Date.now() / 1000);
  const local = loadLocal(ctx.store, id);
  const legState = ctx.store.sqlite.prepare('SELECT partner, state FROM query_legs WHERE query_id = ?');
  const pendingLocally = () => (legState.all(id) as Array<{ partner: string; state: LegState }>).filter((l) => !isFinal(l.state)).map((l) => l.partner);
  if (pendingLocally().length === 0 || !local.blinds || !local.blinded) return localReport(ctx.store, id);

  const deadline = now() + Math.max(0, timeoutSeconds);
  const notes = new Map<string, { state: LegState; error?: string; detail?: string; epoch?: string }>();
  // What finishing a leg needs besides the answer (the current epoch, the pair the leg runs under, how
  // many chunks the partner's side has) is fetched while the answers are awaited, off the critical path.
  const ahead = prefetch(ctx, local, pendingLocally());
  const keys = new Map<string, KeyPair>();
  const myKey = (epoch: string) => {
    let k = keys.get(epoch);
    if (!k) keys.set(epoch, (k = deriveKeyPair(CONCORDAT_SUITE, ctx.agency.epochSeed, epochInfo(epoch))));
    return k;
  };
  for (let first = true; ; first = false) {
    const left = deadline - now();
    // A query just created is pending everywhere: wait for answers at once. Following one up (--status)
    // first looks without waiting, as some legs may already be answered and only need finishing here.
    const wait = first && !o.fresh ? 0 : Math.max(0, Math.min(25, Math.ceil(left)));
    const state: QueryState = await ctx.client.getQuery(id, wait);
    const open = new Set(pendingLocally());
    const finished: Finished[] = [];
    for (const leg of state.legs) {
      if (!open.has(leg.partner)) continue;
      if (leg.status === 'expired') {
        finished.push({
          partner: leg.partner,
          epoch: leg.epoch ?? '',
          outcome: { partner: leg.partner, hits: [], noHits: 0, error: 'unanswered' },
          state: 'expired',
          error: 'unanswered',
          detail: 'the partner did not answer before the query expired',
        });
        continue;
      }
      if (leg.status !== 'answered') {
        notes.set(leg.partner, { state: 'pending' });
        continue;
      }
      const f = await finishLeg(ctx, local, leg, ahead, myKey);
      if ('incomplete' in f) notes.set(leg.partner, { state: 'incomplete', error: 'incomplete', detail: f.incomplete, ...(leg.epoch ? { epoch: leg.epoch } : {}) });
      else finished.push(f);
    }
    if (finished.length > 0) await reportOutcome(ctx, id, finished);
    for (const f of finished) notes.delete(f.partner);
    const stillOpen = pendingLocally();
    // Answered-but-incomplete legs need a sync, not more waiting.
    const waitingFor = stillOpen.filter((p) => notes.get(p)?.state !== 'incomplete');
    if (stillOpen.length === 0 || waitingFor.length === 0 || deadline - now() <= 0) break;
  }
  if (pendingLocally().length === 0) closeQuery(ctx.store, id);
  const report = localReport(ctx.store, id);
  for (const leg of report.legs) {
    const n = notes.get(leg.partner);
    if (!isFinal(leg.state) && n) Object.assign(leg, n);
  }
  return report;
}

interface Prefetch {
  me(): Promise<Me>;
  status(pair: string): Promise<PairStatus>;
}

/** Starts GET /v1/me and the status of each pending partner's pair; a failed prefetch is retried on use. */
function prefetch(ctx: QueryContext, q: LocalQuery, partners: string[]): Prefetch {
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  let me = quiet(ctx.client.me());
  const statuses = new Map<string, Promise<PairStatus>>();
  void me.then((m) => {
    for (const partner of partners) {
      const pair = pairFor(m, partner, q.kind, q.purpose)?.pair;
      if (pair && !statuses.has(pair)) statuses.set(pair, quiet(ctx.client.status(pair)));
    }
  }, () => {});
  return {
    async me() {
      try {
        return await me;
      } catch {
        return (me = quiet(ctx.client.me()));
      }
    },
    async status(pair) {
      const p = statuses.get(pair);
      if (p) {
        try {
          return await p;
        } catch {
          // Fetched again below.
        }
      }
      const fresh = quiet(ctx.client.status(pair));
      statuses.set(pair, fresh);
      return fresh;
    },
  };
}

async function finishLeg(
  ctx: QueryContext,
  q: LocalQuery,
  leg: QueryLeg,
  ahead: Prefetch,
  myKey: (epoch: string) => KeyPair,
): Promise<Finished | { incomplete: string }> {
  const partner = leg.partner;
  const badProof = (error: string, detail: string): Finished => ({
    partner,
    epoch: leg.epoch ?? '',
    outcome: { partner, hits: [], noHits: 0, error: 'bad-proof' },
    state: 'error',
    error,
    detail,
  });
  if (!leg.epoch || !leg.partnerEpochKey || !leg.evaluated || !leg.proof) {
    return badProof('bad-proof', "the coordinator relayed an answer without the partner's epoch, key, elements or proof");
  }
  const epoch = leg.epoch;
  const db = ctx.store.sqlite;
  // The key the proof is checked against must be the one this agency's canaries for the partner were computed with.
  const canaryKeys = db
    .prepare('SELECT DISTINCT canary_partner_key FROM sides WHERE partner = ? AND epoch = ? AND canary_partner_key IS NOT NULL')
    .pluck()
    .all(partner, epoch) as string[];
  if (canaryKeys.length > 0 && !canaryKeys.includes(leg.partnerEpochKey)) {
    return badProof(
      'key-mismatch',
      `the answer is proven against another epoch key of ${partner} for ${epoch} than the one this agency's canaries use; the relay or the partner is not honest`,
    );
  }
  let tokens: Uint8Array[];
  try {
    const evaluated = leg.evaluated.map((h) => {
      if (!/^[0-9a-f]{64}$/.test(h)) throw new ProofError('evaluated: expected 32 bytes of lower-case hex');
      return hexToBytes(h);
    });
    if (!/^[0-9a-f]{128}$/.test(leg.proof)) throw new ProofError('proof: expected 64 bytes of lower-case hex');
    tokens = finishQuery(
      CONCORDAT_SUITE,
      ctx.engine,
      { blinds: q.blinds as Uint8Array[], blinded: q.blinded as Uint8Array[] },
      hexToBytes(leg.partnerEpochKey),
      evaluated,
      hexToBytes(leg.proof),
      myKey(epoch).sk,
    );
  } catch (e) {
    if (e instanceof ProofError || e instanceof DecodeError || e instanceof ProtocolError) {
      return badProof(
        'bad-proof',
        `the answer's DLEQ proof does not verify against ${partner}'s published epoch key for ${epoch} (${e.message}): the responder did not evaluate with its key`,
      );
    }
    throw e;
  }
  // The coordinator runs the leg under the first agreement (by id) that allows it: check that pair's tokens.
  // (After a rotation the pair may have left /v1/me: fall back to the pair this agency holds tokens of.)
  const pair =
    pairFor(await ahead.me(), partner, q.kind, q.purpose)?.pair ??
    (db.prepare('SELECT DISTINCT pair FROM partner_chunks WHERE epoch = ? AND tokens_kept = 1 ORDER BY pair').pluck().all(epoch) as string[]).find((id) =>
      id.split('~').slice(1).includes(partner),
    );
  const have = pair === undefined ? 0 : (db.prepare('SELECT count(*) FROM partner_chunks WHERE pair = ? AND epoch = ? AND tokens_kept = 1').pluck().get(pair, epoch) as number);
  const resume = `run \`concordat sync\`, then \`concordat query --status ${q.id}\``;
  if (pair === undefined || have === 0) {
    return { incomplete: `this agency holds no tokens of ${partner}'s set for epoch ${epoch} yet, so a no-hit cannot be told apart from a set not yet processed (${resume})` };
  }
  // A partner chunk uploaded since this agency's last sync could hold the value: a no-hit must wait for it.
  if ((await ahead.me()).epoch.id === epoch) {
    const status = await ahead.status(pair);
    if (have < status.partner.chunks) {
      return { incomplete: `only ${have} of ${status.partner.chunks} chunks of ${partner}'s set are tokenised locally for epoch ${epoch} (${resume})` };
    }
  }
  const lookup = db.prepare('SELECT 1 FROM partner_tokens WHERE token = ? AND pair = ? AND epoch = ? LIMIT 1').pluck();
  const hits = tokens.map((t) => lookup.get(Buffer.from(t), pair, epoch) !== undefined);
  return {
    partner,
    epoch,
    state: 'done',
    hits,
    outcome: {
      partner,
      hits: hits.flatMap((h, index) => (h ? [{ index, token: bytesToHex(tokens[index] as Uint8Array) }] : [])),
      noHits: hits.filter((h) => !h).length,
    },
  };
}

/** Reports the finished legs (POST …/outcome) and stores them as final with the handles the coordinator returned. */
async function reportOutcome(ctx: QueryContext, id: string, finished: Finished[]): Promise<void> {
  const reply = await ctx.client.postOutcome(
    id,
    finished.map((f) => f.outcome),
  );
  const db = ctx.store.sqlite;
  const at = new Date().toISOString();
  const q = db.prepare('SELECT officer, case_ref AS caseRef FROM queries WHERE id = ?').get(id) as { officer: string; caseRef: string };
  db.transaction(() => {
    const leg = db.prepare('UPDATE query_legs SET state = ?, epoch = ?, error = ?, detail = ?, outcome_sent = 1, finished_at = ? WHERE query_id = ? AND partner = ?');
    const result = db.prepare('INSERT OR REPLACE INTO query_results (query_id, partner, value_index, hit, handle) VALUES (?, ?, ?, ?, ?)');
    for (const f of finished) {
      let detail = f.detail ?? null;
      if (f.hits) {
        const handles = new Map((reply.legs.find((l) => l.partner === f.partner)?.hits ?? []).map((h) => [h.index, h.handle]));
        const missing = f.hits.filter((h, i) => h && !handles.has(i)).length;
        if (missing > 0) detail = `the coordinator returned no handle for ${missing} hit(s)`;
        f.hits.forEach((h, i) => result.run(id, f.partner, i, h ? 1 : 0, h ? (handles.get(i) ?? null) : null));
      }
      leg.run(f.state, f.epoch || null, f.error ?? null, detail, at, id, f.partner);
      appendAudit(ctx.store, {
        officer: q.officer,
        action: 'query.result',
        subject: id,
        outcome: f.state === 'done' ? 'ok' : 'failed',
        caseRef: q.caseRef,
        detail: {
          partner: f.partner,
          state: f.state,
          ...(f.hits ? { hits: f.hits.filter((h) => h).length, noHits: f.hits.filter((h) => !h).length, proofVerified: true } : {}),
          ...(f.error ? { error: f.error } : {}),
        },
      });
    }
  })();
}

/** Drops the blinds of a query whose legs are all final. */
function closeQuery(store: Store, id: string): void {
  store.sqlite.prepare('UPDATE queries SET blinds = NULL, blinded = NULL, closed_at = ? WHERE id = ? AND closed_at IS NULL').run(new Date().toISOString(), id);
}

// ---- presentation ----

export interface QueryJsonEntry {
  partner: string;
  kind: string;
  value_index: number;
  hit: boolean;
  handle?: string;
}

/** One entry per value × partner with a result, in value order (then partner order as asked). */
export function resultEntries(r: QueryReport): QueryJsonEntry[] {
  const out: QueryJsonEntry[] = [];
  for (let i = 0; i < r.values; i++) {
    for (const leg of r.legs) {
      const v = leg.results?.find((x) => x.index === i);
      if (!v) continue;
      out.push({ partner: leg.partner, kind: r.kind, value_index: i, hit: v.hit, ...(v.handle ? { handle: v.handle } : {}) });
    }
  }
  return out;
}

/**
 * `{"results":[…],"query_id"}`; legs that failed (bad proof, expired) appear
 * only in `"errors"` and legs still open only in `"pending"` — never as a
 * result entry, so no consumer can read them as "no hit".
 */
export function formatQueryJson(r: QueryReport): string {
  const out: Record<string, unknown> = { results: resultEntries(r), query_id: r.queryId };
  const errors = r.legs.filter((l) => l.state === 'error' || l.state === 'expired');
  if (errors.length > 0) out.errors = errors.map((l) => ({ partner: l.partner, error: l.error ?? l.state, ...(l.detail ? { detail: l.detail } : {}) }));
  const pending = r.legs.filter((l) => l.state === 'pending' || l.state === 'incomplete');
  if (pending.length > 0) out.pending = pending.map((l) => ({ partner: l.partner, state: l.state, ...(l.detail ? { detail: l.detail } : {}) }));
  return JSON.stringify(out);
}

export function formatQueryTable(r: QueryReport): string {
  const lines = [
    `query ${r.queryId}: ${r.kind}, purpose ${r.purpose}, case ${JSON.stringify(printable(r.caseRef))}, ${r.values} value(s), ${r.legs.length} partner(s)`,
  ];
  const rows: string[][] = [];
  for (let i = 0; i < r.values; i++) {
    for (const leg of r.legs) {
      const v = leg.results?.find((x) => x.index === i);
      const result =
        leg.state === 'done'
          ? v?.hit
            ? 'HIT'
            : 'no hit'
          : leg.state === 'error'
            ? 'ERROR'
            : leg.state === 'expired'
              ? 'expired'
              : leg.state === 'incomplete'
                ? 'answered, not checked yet'
                : 'pending';
      rows.push([String(i), leg.partner, result, v?.handle ?? '-']);
    }
  }
  const header = ['VALUE', 'PARTNER', 'RESULT', 'HANDLE'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => (row[k] ?? '').length)));
  const fmt = (row: string[]) => row.map((c, k) => (k === row.length - 1 ? c : c.padEnd(widths[k] ?? 0))).join('  ').trimEnd();
  lines.push(fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  const hits = resultEntries(r).filter((e) => e.hit).length;
  lines.push('', `${hits} hit(s). VALUE is the index of the value in the order given (0 = first).`);
  return `${lines.join('\n')}\n`;
}

/** Lines for stderr: errors loudly, open legs with how to resume. */
export function queryWarnings(r: QueryReport, dir: string): string[] {
  const out: string[] = [];
  for (const l of r.legs) {
    if (l.state === 'error') {
      out.push(`query: !!! ERROR ${l.partner}: ${l.detail ?? l.error ?? 'the answer could not be verified'}`);
      out.push(`query: !!! the values asked of ${l.partner} have NO result — this is not a "no hit". The coordinator was told (bad-proof).`);
    } else if (l.state === 'expired') out.push(`query: ${l.partner}: the query expired unanswered (no result for its values)`);
    else if (l.state === 'incomplete') out.push(`query: ${l.partner}: answered, but ${l.detail ?? 'its set is not fully tokenised locally'}`);
  }
  const pending = r.legs.filter((l) => l.state === 'pending').map((l) => l.partner);
  if (pending.length > 0) {
    out.push(`query: no answer yet from ${pending.join(', ')} (its responder may be offline; a query stays open for 7 days).`);
  }
  if (pending.length > 0 || r.legs.some((l) => l.state === 'incomplete')) {
    out.push(`query: resume with: concordat query --dir ${dir} --status ${r.queryId}`);
  }
  return out;
}

export function queryExitCode(r: QueryReport): number {
  if (r.legs.some((l) => l.state === 'error')) return EXIT.badProof;
  if (!r.legs.some((l) => l.state === 'done')) return EXIT.unanswered;
  return EXIT.ok;
}

/** A coordinator refusal of a query, with what the operator needs (a quota's reset time). */
export function describeRefusal(e: CoordinatorError, nowMs = Date.now()): string {
  const head = `query refused by the coordinator: ${e.status} ${e.title}${e.detail ? `: ${e.detail}` : ''}${e.field ? ` (field ${e.field})` : ''}`;
  if (e.status !== 429) return head;
  const at = e.resetsAt ? Date.parse(e.resetsAt) : e.retryAfter && /^\d+$/.test(e.retryAfter) ? nowMs + Number(e.retryAfter) * 1000 : NaN;
  if (Number.isNaN(at)) return head;
  const mins = Math.max(0, Math.ceil((at - nowMs) / 60_000));
  return `${head}. The quota resets at ${new Date(at).toISOString()} (in ${mins >= 60 ? `${Math.floor(mins / 60)} h ${mins % 60} min` : `${mins} min`}).`;
}
