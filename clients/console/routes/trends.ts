// Trends: overlaps per partner per night, and queries per day against quota.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Trends } from '../api-types.js';
import type { ConsoleDeps, ConsoleEnv } from '../context.js';
import { queryFilters } from '../validation.js';

const filter = z.object({ days: z.coerce.number().int().min(1).max(366).optional() }).strict();

export function trendRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get('/trends', async (c) => {
    const f = queryFilters(c.req.url, filter);
    const days = f.days ?? 30;
    const now = (deps.now ?? (() => new Date()))();
    const since = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const db = deps.store.sqlite;
    // Several pairs with one partner (several agreements) add up.
    const nights = db
      .prepare('SELECT date, partner, sum(overlaps) AS overlaps FROM pair_nights WHERE date >= ? GROUP BY date, partner ORDER BY date, partner')
      .all(since) as Array<{ date: string; partner: string; overlaps: number }>;
    const asked = db
      .prepare("SELECT substr(created_at, 1, 10) AS date, count(*) AS queries FROM queries WHERE created_at >= ? GROUP BY date ORDER BY date")
      .all(`${since}T00:00:00.000Z`) as Array<{ date: string; queries: number }>;
    let quota: number | null = null;
    try {
      const me = await deps.client.me();
      // The coordinator counts a query once per agreement it runs under; the sum is the day's ceiling.
      const perAgreement = new Map(me.pairs.filter((p) => p.mode === 'reveal').map((p) => [p.agreement, p.queryQuota?.perDay ?? 0]));
      quota = [...perAgreement.values()].reduce((a, b) => a + b, 0);
    } catch {
      quota = null;
    }
    const byDate = new Map(asked.map((a) => [a.date, a.queries]));
    const queries: Trends['queries'] = [];
    for (let i = 0; i < days; i++) {
      const date = new Date(Date.parse(`${since}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
      queries.push({ date, queries: byDate.get(date) ?? 0, quota });
    }
    return c.json<Trends>({ nights, queries });
  });

  return app;
}
