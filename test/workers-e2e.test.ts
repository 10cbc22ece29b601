// The nightly scenario (e2e-scenario.ts) against the Workers coordinator:
// `wrangler dev --local` (workerd with local D1 and Durable Objects) on a
// free loopback port as a child process, and the built `concordat` CLI for
// three agencies, exactly as test/e2e-nightly.test.ts runs them against
// `coordinator serve`. The admin key comes from `concordat coordinator init`;
// the Worker gets its public half as ADMIN_PUBLIC_KEY. The planted
// identifiers are looked for in the Worker's log and in the SQLite files of
// D1 and every pair's Durable Object.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWorkersCoordinator } from '../bench/nightly.js';
import { nightlyScenario, type ScenarioCoordinator } from './e2e-scenario.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

async function workersCoordinator(work: string, adminPublicKey: string): Promise<ScenarioCoordinator> {
  const state = join(work, 'workers-state');
  const running = await startWorkersCoordinator(state, adminPublicKey);
  return {
    url: running.url,
    haystacks() {
      // Local D1 and every pair's Durable Object are SQLite databases (with their WAL) under the persistence directory.
      const stored = filesUnder(state).filter((f) => /\.sqlite(-wal)?$/.test(f));
      expect(stored.filter((f) => f.endsWith('.sqlite')).length).toBeGreaterThanOrEqual(4);
      expect(running.output()).toMatch(/"route":"\/v1\/pairs\/:pair\/partner-set\/chunks\/:index\/tokens"/);
      return [...stored.map((f): [string, Buffer] => [f, readFileSync(f)]), ['worker log', Buffer.from(running.output())]];
    },
    stop: () => running.stop(),
  };
}

const scenario = nightlyScenario({
  prefix: 'concordat-workers-e2e-',
  seed: 11,
  timeout: 240_000,
  start: (work, _coordDir, adminPublicKey) => workersCoordinator(work, adminPublicKey),
});

describe('three agencies against the Workers coordinator (wrangler dev, local D1 and Durable Objects)', () => {
  it('serves GET / and the admin commands exactly as the Node server does', async () => {
    const { url } = scenario.coordinator;
    const admin = (args: string[]) => scenario.world.admin(url, args);
    const res = await fetch(`${url}/`);
    expect(await res.json()).toEqual({ service: 'concordat-coordinator', protocol: 'concordat-v2', version: expect.any(String), epoch: 'e1' });
    const agreements = JSON.parse(await admin(['agreement', 'list'])) as { agreements: Array<{ id: string; pairs: string[] }> };
    expect(agreements.agreements.map((a) => a.id)).toEqual(['es-fr', 'es-pt', 'pt-fr']);
    expect(JSON.parse(await admin(['config', 'show']))).toMatchObject({ retention: { dataDays: 7, idleDays: 45, auditDays: 730 }, epochs: { rotateDays: 30 } });
    // An unsigned admin request is refused with a problem document, as on Node.
    const refused = await fetch(`${url}/v1/admin/agreements`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  scenario.night1();
  scenario.night2();
  scenario.noIdentifierLeaks();
});
