// The Worker's cron trigger (src/worker.ts `scheduled`, wrangler.toml
// `[triggers] crons`) runs the maintenance tick inside workerd: it rotates the
// epoch once the current one is epochs.rotateDays (default 30) old, once
// even when two invocations overlap, and runs the retention purge each time.
// Runs only in the Workers pool (vitest.workers.config.ts).
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../protocol/bytes.js';
import { randomBytes } from '../protocol/rng.js';
import { openD1Store, type PairNamespace } from '../src/store/drivers/d1.js';
import worker, { type Env } from '../src/worker.js';

const DAY = 86_400_000;
/** The part of the D1 binding this file uses. */
type D1Like = { prepare(sql: string): { bind(...params: unknown[]): { run(): Promise<unknown> } } };
const store = openD1Store(env.DB, env.PAIRS as PairNamespace);
const e: Env = { DB: env.DB, PAIRS: env.PAIRS as PairNamespace, ADMIN_PUBLIC_KEY: bytesToHex(ed25519.getPublicKey(randomBytes(32))) };

async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled({}, e, ctx);
  await waitOnExecutionContext(ctx);
}

/** Move the start of the current epoch `days` into the past, as if that much time had gone by. */
async function age(days: number): Promise<void> {
  const startedAt = new Date(Date.now() - days * DAY).toISOString();
  await (env.DB as D1Like).prepare('UPDATE epochs SET started_at = ? WHERE seq = (SELECT max(seq) FROM epochs)').bind(startedAt).run();
}

async function rotations() {
  return (await store.readAudit(0, 10_000)).filter((x) => x.action === 'epoch.rotated');
}

describe('the Worker cron trigger', () => {
  it('rotates the epoch once it is 30 days old, not before, and once under overlapping invocations', async () => {
    await cron();
    expect((await store.currentEpoch()).id).toBe('e1');
    await age(29);
    await cron();
    expect((await store.currentEpoch()).id).toBe('e1');
    expect(await rotations()).toEqual([]);

    await age(30);
    await cron();
    expect((await store.currentEpoch()).id).toBe('e2');
    expect(await rotations()).toMatchObject([{ actor: 'coordinator', subject: 'e2', detail: { previous: 'e1', rotateDays: 30 } }]);
    // Every tick also ran the retention purge.
    const purges = (await store.readAudit(0, 10_000)).filter((x) => x.action === 'retention.purged');
    expect(purges.map((x) => x.actor)).toEqual(['coordinator', 'coordinator', 'coordinator']);
    await cron();
    expect((await store.currentEpoch()).id).toBe('e2');

    await age(31);
    await Promise.all([cron(), cron()]);
    expect((await store.listEpochs()).map((x) => x.id)).toEqual(['e1', 'e2', 'e3']);
    expect(await rotations()).toHaveLength(2);
  });
});
