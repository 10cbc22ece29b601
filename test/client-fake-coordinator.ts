// An in-memory coordinator implementing the agency routes of src/API.md, for
// the client's tests: it verifies every signature, enforces the chunk and
// canary rules, matches tokens and computes handles as the contract says.
// It also injects faults (lost responses, 5xx, corrupted tokens) so the
// tests can check that sync resumes. It is not the coordinator (src/).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../protocol/bytes.js';
import { decodePoint } from '../protocol/group.js';
import { verifyRequest } from '../protocol/http-signature.js';

export interface FakeAgreement {
  id: string;
  parties: string[];
  kinds: string[];
  mode: 'reveal' | 'count';
  maxSetSize?: number;
}

interface Side {
  chunks: Array<{ count: number; sha256: string; data: Uint8Array }>;
  removed: Set<number>;
  canaries: Map<number, string>;
  canariesDone: boolean;
  /** Tokens of this side computed by the partner, per chunk index. */
  tokens: Map<number, Uint8Array>;
}

export type Fault = (req: { method: string; path: string; agency: string }) => 'drop-before' | 'drop-after' | 'fail-500' | undefined;

export class FakeCoordinator {
  readonly agencies = new Map<string, { publicKey: Uint8Array; name: string; country: string }>();
  readonly agreements: FakeAgreement[] = [];
  epoch = 'e1';
  readonly epochKeys = new Map<string, string>();
  readonly sides = new Map<string, Side>();
  readonly failed = new Map<string, string>();
  readonly firstSeen = new Map<string, string>();
  readonly log: string[] = [];
  /** Agencies whose uploaded tokens get corrupted (a dishonest partner). */
  readonly corruptTokensOf = new Set<string>();
  faults: Fault[] = [];
  private readonly nonces = new Set<string>();
  private readonly handleKey = crypto.getRandomValues(new Uint8Array(32));
  private server: Server | undefined;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  addAgency(id: string, publicKeyHex: string, country = 'ESP'): void {
    this.agencies.set(id, { publicKey: hexToBytes(publicKeyHex.trim()), name: id, country });
  }

  pairsOf(agency: string): Array<{ pair: string; agreement: FakeAgreement; partner: string }> {
    const out = [];
    for (const a of this.agreements) {
      if (!a.parties.includes(agency)) continue;
      for (const partner of a.parties) if (partner !== agency) out.push({ pair: pairId(a.id, agency, partner), agreement: a, partner });
    }
    return out;
  }

  side(pair: string, owner: string): Side {
    const k = `${this.epoch}|${pair}|${owner}`;
    let s = this.sides.get(k);
    if (!s) this.sides.set(k, (s = { chunks: [], removed: new Set(), canaries: new Map(), canariesDone: false, tokens: new Map() }));
    return s;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const send = (status: number, payload: unknown, type = 'application/json') => {
      const b = payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload));
      res.writeHead(status, { 'content-type': type, 'content-length': b.length });
      res.end(b);
    };
    const problem = (status: number, slug: string, detail: string, field?: string) =>
      send(status, { type: `urn:concordat:problem:${slug}`, title: slug, status, detail, ...(field ? { field } : {}) }, 'application/problem+json');
    let agency: string;
    try {
      const v = await verifyRequest({
        method,
        path: url.pathname,
        query: url.search === '' ? '?' : url.search,
        headers: { get: (n: string) => (req.headers[n.toLowerCase()] as string | undefined) ?? null },
        body,
        now: Math.floor(Date.now() / 1000),
        lookupKey: (k) => this.agencies.get(k)?.publicKey,
        useNonce: (k, n) => {
          const key = `${k}|${n}`;
          if (this.nonces.has(key)) return false;
          this.nonces.add(key);
          return true;
        },
      });
      agency = v.keyid;
    } catch (e) {
      return problem(401, 'signature', (e as Error).message);
    }
    for (const f of this.faults) {
      const fault = f({ method, path: url.pathname, agency });
      if (fault === 'drop-before') {
        req.socket.destroy();
        return;
      }
      if (fault === 'fail-500') return problem(500, 'internal', 'injected failure');
      if (fault === 'drop-after') {
        // Apply the request, then lose the response.
        const sink = { writeHead: () => sink, end: () => req.socket.destroy() } as unknown as ServerResponse;
        this.route(agency, method, url.pathname, body, () => sink.end(), () => sink.end());
        return;
      }
    }
    this.log.push(`${agency} ${method} ${url.pathname}`);
    this.route(agency, method, url.pathname, body, send, problem);
  }

  private route(
    agency: string,
    method: string,
    path: string,
    body: Uint8Array,
    send: (status: number, payload: unknown, type?: string) => void,
    problem: (status: number, slug: string, detail: string, field?: string) => void,
  ): void {
    const json = (): Record<string, unknown> => JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
    if (method === 'GET' && path === '/v1/me') {
      const a = this.agencies.get(agency);
      return send(200, {
        agency: { id: agency, name: a?.name, country: a?.country },
        epoch: { id: this.epoch, startedAt: new Date(0).toISOString() },
        pairs: this.pairsOf(agency).map((p) => ({
          pair: p.pair,
          agreement: p.agreement.id,
          partner: p.partner,
          mode: p.agreement.mode,
          kinds: p.agreement.kinds,
          validUntil: '2030-12-31',
          maxSetSize: p.agreement.maxSetSize ?? 10_000_000,
          myEpochKey: this.epochKeys.get(`${this.epoch}|${agency}`) ?? null,
          partnerEpochKey: this.epochKeys.get(`${this.epoch}|${p.partner}`) ?? null,
        })),
      });
    }
    if (method === 'PUT' && path === '/v1/epoch-key') {
      const b = json();
      if (b.epoch !== this.epoch) return problem(409, 'stale-epoch', 'not the current epoch');
      try {
        decodePoint('publicKey', hexToBytes(String(b.publicKey)));
      } catch {
        return problem(422, 'validation', 'bad key', 'body.publicKey');
      }
      const k = `${this.epoch}|${agency}`;
      const have = this.epochKeys.get(k);
      if (have && have !== b.publicKey) return problem(409, 'conflict', 'another key is published');
      this.epochKeys.set(k, String(b.publicKey));
      return send(have ? 200 : 201, { epoch: this.epoch });
    }
    if (method === 'GET' && path === '/v1/work') {
      const tasks: Array<{ pair: string; partner: string; index: number; count: number; sha256: string }> = [];
      for (const p of this.pairsOf(agency)) {
        const s = this.side(p.pair, p.partner);
        s.chunks.forEach((c, index) => {
          if (!s.tokens.has(index)) tasks.push({ pair: p.pair, partner: p.partner, index, count: c.count, sha256: c.sha256 });
        });
      }
      return send(200, { tasks });
    }
    if (method === 'GET' && path === '/v1/results') {
      return send(200, { epoch: this.epoch, pairs: this.pairsOf(agency).map((p) => this.resultFor(p.pair, p.agreement, agency, p.partner)) });
    }
    const m = /^\/v1\/pairs\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return problem(404, 'not-found', 'no such route');
    const pair = decodeURIComponent(m[1] as string);
    const rest = m[2] as string;
    const p = this.pairsOf(agency).find((x) => x.pair === pair);
    if (!p) return problem(403, 'no-agreement', 'not a party of a valid agreement for this pair');
    if (!this.epochKeys.has(`${this.epoch}|${agency}`)) return problem(409, 'conflict', 'publish the epoch key first');
    const mine = this.side(pair, agency);
    const theirs = this.side(pair, p.partner);
    let mm: RegExpExecArray | null;
    if (method === 'PUT' && (mm = /^set\/chunks\/(\d+)$/.exec(rest))) {
      const index = Number(mm[1]);
      const digest = bytesToHex(sha256(body));
      if (index < mine.chunks.length) {
        const c = mine.chunks[index];
        if (c?.sha256 !== digest) return problem(409, 'conflict', 'chunk exists with another digest');
        return send(200, { index, firstPosition: firstPos(mine, index), count: c.count, sha256: digest });
      }
      if (index !== mine.chunks.length) return problem(409, 'conflict', 'not the next chunk');
      if (body.length === 0 || body.length % 32 !== 0 || body.length / 32 > 65536) return problem(422, 'validation', 'bad length', 'body');
      for (let i = 0; i < body.length / 32; i++) {
        try {
          decodePoint(`element[${i}]`, body.subarray(i * 32, i * 32 + 32));
        } catch {
          return problem(422, 'validation', 'bad element', `element[${i}]`);
        }
      }
      const live = mine.chunks.reduce((a, c) => a + c.count, 0) - mine.removed.size + body.length / 32;
      if (live > (p.agreement.maxSetSize ?? 10_000_000)) return problem(413, 'too-large', 'over maxSetSize');
      mine.chunks.push({ count: body.length / 32, sha256: digest, data: body.slice() });
      return send(201, { index, firstPosition: firstPos(mine, index), count: body.length / 32, sha256: digest });
    }
    if (method === 'POST' && rest === 'set/removals') {
      const positions = json().positions as number[];
      const size = mine.chunks.reduce((a, c) => a + c.count, 0);
      for (const pos of positions) if (!Number.isInteger(pos) || pos < 0 || pos >= size) return problem(422, 'validation', 'unknown position', 'body.positions');
      let n = 0;
      for (const pos of positions) if (!mine.removed.has(pos)) (mine.removed.add(pos), n++);
      return send(200, { removed: n });
    }
    if (method === 'PUT' && rest === 'set/canaries') {
      const list = json().canaries as Array<{ position: number; token: string }>;
      const size = mine.chunks.reduce((a, c) => a + c.count, 0);
      for (const c of list) {
        if (c.position >= size) return problem(422, 'validation', 'unknown position', 'body.canaries');
        const have = mine.canaries.get(c.position);
        if (have && have !== c.token) return problem(409, 'conflict', 'another token registered');
      }
      for (const c of list) mine.canaries.set(c.position, c.token);
      this.checkCanaries(pair, agency, p.partner);
      return send(200, { registered: list.length });
    }
    if (method === 'POST' && rest === 'set/canaries/done') {
      mine.canariesDone = true;
      return send(200, {});
    }
    if (method === 'GET' && rest === 'status') {
      const r = this.resultFor(pair, p.agreement, agency, p.partner);
      return send(200, {
        pair,
        state: r.state,
        ...('reason' in r ? { reason: r.reason } : {}),
        mine: {
          chunks: mine.chunks.map((c, index) => ({ index, count: c.count, sha256: c.sha256 })),
          size: mine.chunks.reduce((a, c) => a + c.count, 0) - mine.removed.size,
          removed: mine.removed.size,
          canariesRegistered: mine.canariesDone,
          tokenizedByPartner: mine.tokens.size,
        },
        partner: { chunks: theirs.chunks.length, size: theirs.chunks.reduce((a, c) => a + c.count, 0), tokenizedByMe: theirs.tokens.size },
      });
    }
    if (method === 'GET' && (mm = /^partner-set\/chunks\/(\d+)$/.exec(rest))) {
      const c = theirs.chunks[Number(mm[1])];
      if (!c) return problem(404, 'not-found', 'no such chunk');
      return send(200, c.data, 'application/octet-stream');
    }
    if (method === 'PUT' && (mm = /^partner-set\/chunks\/(\d+)\/tokens$/.exec(rest))) {
      const index = Number(mm[1]);
      const c = theirs.chunks[index];
      if (!c) return problem(404, 'not-found', 'no such chunk');
      if (body.length !== c.count * 16) return problem(422, 'validation', 'wrong token count', 'body');
      let tokens = body.slice();
      if (this.corruptTokensOf.has(agency)) tokens = tokens.map((b) => b ^ 0x5a);
      const have = theirs.tokens.get(index);
      if (have) return bytesToHex(have) === bytesToHex(tokens) ? send(200, { index }) : problem(409, 'conflict', 'other tokens');
      theirs.tokens.set(index, tokens);
      this.checkCanaries(pair, p.partner, agency);
      return send(201, { index });
    }
    return problem(404, 'not-found', 'no such route');
  }

  /** Token of position `pos` of `owner`'s side, as computed by the partner, if it arrived. */
  private tokenAt(s: Side, pos: number): string | undefined {
    let first = 0;
    for (const [i, c] of s.chunks.entries()) {
      if (pos < first + c.count) {
        const t = s.tokens.get(i);
        return t ? bytesToHex(t.subarray((pos - first) * 16, (pos - first + 1) * 16)) : undefined;
      }
      first += c.count;
    }
    return undefined;
  }

  private checkCanaries(pair: string, owner: string, _partner: string): void {
    const s = this.side(pair, owner);
    let bad = 0;
    for (const [pos, want] of s.canaries) {
      const got = this.tokenAt(s, pos);
      if (got !== undefined && got !== want) bad++;
    }
    if (bad > 0 && !this.failed.has(pair)) {
      this.failed.set(pair, `canary check failed: ${bad} of ${s.canaries.size} canaries in ${owner}'s side did not match`);
    }
  }

  private liveTokens(s: Side): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const size = s.chunks.reduce((a, c) => a + c.count, 0);
    for (let pos = 0; pos < size; pos++) {
      if (s.removed.has(pos) || s.canaries.has(pos)) continue;
      const t = this.tokenAt(s, pos);
      if (t === undefined) continue;
      const list = out.get(t) ?? [];
      list.push(pos);
      out.set(t, list);
    }
    return out;
  }

  private resultFor(pair: string, agreement: FakeAgreement, me: string, partner: string) {
    const base = { pair, agreement: agreement.id, partner, mode: agreement.mode };
    const reason = this.failed.get(pair);
    if (reason) return { ...base, state: 'failed' as const, reason };
    const a = this.side(pair, me);
    const b = this.side(pair, partner);
    const complete =
      a.chunks.length > 0 &&
      b.chunks.length > 0 &&
      a.canariesDone &&
      b.canariesDone &&
      a.tokens.size === a.chunks.length &&
      b.tokens.size === b.chunks.length;
    if (!complete) return { ...base, state: 'waiting' as const };
    const ta = this.liveTokens(a);
    const tb = this.liveTokens(b);
    const matches: Array<{ position: number; handle: string; firstSeen: string }> = [];
    let count = 0;
    for (const [t, positions] of ta) {
      const other = tb.get(t);
      if (!other) continue;
      count += positions.length * other.length;
      const handle = bytesToHex(hmac(sha256, this.handleKey, concatBytes(utf8(pair), new Uint8Array([0]), hexToBytes(t)))).slice(0, 32);
      const fk = `${pair}|${t}`;
      if (!this.firstSeen.has(fk)) this.firstSeen.set(fk, new Date().toISOString());
      for (const position of positions) matches.push({ position, handle, firstSeen: this.firstSeen.get(fk) as string });
    }
    return agreement.mode === 'reveal' ? { ...base, state: 'complete' as const, matches } : { ...base, state: 'complete' as const, count };
  }
}

function firstPos(s: Side, index: number): number {
  return s.chunks.slice(0, index).reduce((a, c) => a + c.count, 0);
}

export function pairId(agreement: string, a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `${agreement}~${x}~${y}`;
}
