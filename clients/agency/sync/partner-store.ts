// Every statement a sync runs on the partner's side: the log of partner
// chunks this agency tokenised (partner_chunks), the tokens it kept of them
// (partner_tokens), which a targeted query's answer is checked against
// (clients/README-cli.md, "concordat sync", step 3), and the positions the
// partner withdrew (partner_removals), whose tokens no longer answer a query.
import type { Database, Statement } from 'better-sqlite3';
import { TOKEN_BYTES } from '../../../protocol/constants.js';
import type { Store } from '../../store/db.js';
import { statementCache } from './store.js';

export class PartnerStore {
  private readonly db: Database;
  private readonly sql: (text: string) => Statement;

  constructor(store: Store) {
    this.db = store.sqlite;
    this.sql = statementCache(this.db);
  }

  /** Count and digest of a partner chunk tokenised earlier, if logged. */
  loggedChunk(pair: string, epoch: string, index: number): { count: number; sha256: string } | undefined {
    return this.sql('SELECT count, sha256 FROM partner_chunks WHERE pair = ? AND epoch = ? AND idx = ?').get(pair, epoch, index) as
      | { count: number; sha256: string }
      | undefined;
  }

  /**
   * Where partner chunk `index` must start: the sum of the logged counts of
   * the chunks before it, or undefined when one of them is not logged yet.
   */
  positionOf(pair: string, epoch: string, index: number): number | undefined {
    const rows = this.sql('SELECT idx, count FROM partner_chunks WHERE pair = ? AND epoch = ? AND idx < ? ORDER BY idx').all(pair, epoch, index) as Array<{ idx: number; count: number }>;
    if (rows.length !== index) return undefined;
    return rows.reduce((a, r) => a + r.count, 0);
  }

  /** Indexes of the partner chunks whose tokens are in partner_tokens. */
  chunksKept(pair: string, epoch: string): Set<number> {
    return new Set(this.sql('SELECT idx FROM partner_chunks WHERE pair = ? AND epoch = ? AND tokens_kept = 1').pluck().all(pair, epoch) as number[]);
  }

  /** Withdrawn partner positions recorded for the pair and epoch: the `after` of the next removals page. */
  removalsKnown(pair: string, epoch: string): number {
    return this.sql('SELECT count(*) FROM partner_removals WHERE pair = ? AND epoch = ?').pluck().get(pair, epoch) as number;
  }

  /** Records positions the partner withdrew (protocol/SPEC.md §3.1 step 6), in one transaction; returns how many were new. */
  recordRemovals(pair: string, epoch: string, positions: readonly number[], at: string): number {
    const ins = this.sql('INSERT OR IGNORE INTO partner_removals (pair, epoch, position, removed_at) VALUES (?, ?, ?, ?)');
    return this.db.transaction(() => positions.reduce((n, p) => n + ins.run(pair, epoch, p, at).changes, 0))();
  }

  /**
   * Logs a tokenised partner chunk of `count` elements and writes its tokens
   * (count×16 bytes) into partner_tokens, replacing any earlier copy, in one
   * transaction. Its first position is the sum of the counts of the chunks
   * before it.
   */
  keepTokens(pair: string, epoch: string, index: number, count: number, sha256: string, at: string, tokens: Uint8Array): void {
    const countOf = this.sql('SELECT count FROM partner_chunks WHERE pair = ? AND epoch = ? AND idx = ?').pluck();
    const del = this.sql('DELETE FROM partner_tokens WHERE pair = ? AND epoch = ? AND position >= ? AND position < ?');
    const ins = this.sql('INSERT OR REPLACE INTO partner_tokens (pair, epoch, position, chunk, token) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO partner_chunks (pair, epoch, idx, count, sha256, tokenized_at, tokens_kept) VALUES (?, ?, ?, ?, ?, ?, 1)
         ON CONFLICT DO UPDATE SET count = excluded.count, sha256 = excluded.sha256, tokenized_at = excluded.tokenized_at, tokens_kept = 1`,
      ).run(pair, epoch, index, count, sha256, at);
      let first = 0;
      for (let k = 0; k < index; k++) {
        const c = countOf.get(pair, epoch, k) as number | undefined;
        if (c === undefined) throw new Error(`internal: partner chunk ${k} of ${pair} is not logged`);
        first += c;
      }
      del.run(pair, epoch, first, first + tokens.length / TOKEN_BYTES);
      const buf = Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength);
      for (let k = 0; k * TOKEN_BYTES < tokens.length; k++) ins.run(pair, epoch, first + k, index, buf.subarray(k * TOKEN_BYTES, (k + 1) * TOKEN_BYTES));
    })();
  }
}
