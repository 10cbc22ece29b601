// Store contract: the audit hash chain (src/API.md, "Audit log"; "Audit
// export and retention") — appends that race each other, paging, and the
// retention purge with its checkpoint.
import { describe, expect, it } from 'vitest';
import { checkpointDetail, RETENTION_PURGED, verifyAuditChain, type AuditCheckpoint, type AuditInput } from '../../src/audit.js';
import { eachStore } from './store-fixture.js';

const fx = eachStore();

const entry = (at: string, n: number): AuditInput => ({ at, actor: 'admin', action: 'test.event', subject: `s${n}`, outcome: 'ok', detail: { n, z: 1, a: [2, 1] } });
const purgeRecord = (removed: number, checkpoint: AuditCheckpoint | undefined): AuditInput => ({
  at: '2026-06-01T00:00:00.000Z',
  actor: 'coordinator',
  action: RETENTION_PURGED,
  subject: 'coordinator',
  outcome: 'ok',
  detail: { removed, auditCheckpoint: checkpointDetail(checkpoint) },
});

describe('audit chain', () => {
  it('assigns seq from 1 and returns each entry as it reads back (detail in canonical key order)', async () => {
    const first = await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', 1));
    expect(first).toMatchObject({ seq: 1, subject: 's1', detail: { a: [2, 1], n: 1, z: 1 } });
    expect(Object.keys(first.detail)).toEqual(['a', 'n', 'z']);
    const second = await fx.store.appendAudit(entry('2026-01-01T00:00:01.000Z', 2));
    expect(await fx.store.readAudit(0, 10)).toEqual([first, second]);
    expect(verifyAuditChain([first, second])).toEqual({ ok: true, count: 2 });
  });

  it('keeps one unbroken chain under racing appends', async () => {
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i))));
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const read = await fx.store.readAudit(0, 100);
    expect(read).toHaveLength(20);
    expect(verifyAuditChain(read)).toEqual({ ok: true, count: 20 });
    expect(new Set(read.map((e) => e.subject)).size).toBe(20);
  });

  it('pages by seq', async () => {
    for (let i = 0; i < 7; i++) await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i));
    expect((await fx.store.readAudit(0, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await fx.store.readAudit(3, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect((await fx.store.readAudit(6, 3)).map((e) => e.seq)).toEqual([7]);
    expect(await fx.store.readAudit(7, 3)).toEqual([]);
  });
});

describe('audit retention purge', () => {
  it('removes the prefix before the first recent entry, keeps its checkpoint and appends the record', async () => {
    expect(await fx.store.getAuditCheckpoint()).toBeUndefined();
    for (const [i, at] of ['2026-01-01', '2026-01-02', '2026-03-01', '2026-01-03', '2026-03-02'].entries()) await fx.store.appendAudit(entry(`${at}T00:00:00.000Z`, i));
    const before = await fx.store.readAudit(0, 100);
    const { removed, entry: record } = await fx.store.purgeAudit('2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', purgeRecord);
    // Entry 4 is old too, but comes after a recent one: only a prefix of the chain goes.
    expect(removed).toBe(2);
    expect(record).toMatchObject({ seq: 6, action: RETENTION_PURGED, detail: { removed: 2, auditCheckpoint: { seq: 2 } } });
    const checkpoint = await fx.store.getAuditCheckpoint();
    expect(checkpoint).toEqual({ seq: 2, hash: before[1]?.hash });
    const after = await fx.store.readAudit(0, 100);
    expect(after.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(verifyAuditChain(after, checkpoint)).toEqual({ ok: true, count: 4 });
  });

  it('removes nothing when nothing is old, and continues from the checkpoint once every entry is gone', async () => {
    await fx.store.appendAudit(entry('2026-03-01T00:00:00.000Z', 1));
    const none = await fx.store.purgeAudit('2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', purgeRecord);
    expect(none).toMatchObject({ removed: 0, entry: { seq: 2, detail: { removed: 0, auditCheckpoint: null } } });
    expect(await fx.store.getAuditCheckpoint()).toBeUndefined();
    const all = await fx.store.purgeAudit('2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', purgeRecord);
    expect(all).toMatchObject({ removed: 2, entry: { seq: 3, detail: { removed: 2, auditCheckpoint: { seq: 2 } } } });
    const again = await fx.store.purgeAudit('2028-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z', purgeRecord);
    expect(again).toMatchObject({ removed: 1, entry: { seq: 4, detail: { removed: 1, auditCheckpoint: { seq: 3 } } } });
    const next = await fx.store.appendAudit(entry('2028-01-01T00:00:00.000Z', 9));
    expect(next.seq).toBe(5);
    const checkpoint = await fx.store.getAuditCheckpoint();
    expect(checkpoint?.seq).toBe(3);
    expect(verifyAuditChain(await fx.store.readAudit(0, 100), checkpoint)).toEqual({ ok: true, count: 2 });
  });

  it('keeps the chain whole when appends race a purge', async () => {
    for (let i = 0; i < 5; i++) await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i));
    const [purged] = await Promise.all([
      fx.store.purgeAudit('2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', purgeRecord),
      ...Array.from({ length: 6 }, (_, i) => fx.store.appendAudit(entry('2026-03-01T00:00:00.000Z', 10 + i))),
    ]);
    expect(purged.removed).toBeGreaterThanOrEqual(5);
    const rest = await fx.store.readAudit(0, 100);
    expect(rest.map((e) => e.seq)).toEqual(Array.from({ length: rest.length }, (_, i) => (rest[0]?.seq ?? 0) + i));
    expect(verifyAuditChain(rest, await fx.store.getAuditCheckpoint())).toEqual({ ok: true, count: rest.length });
    expect(rest.filter((e) => e.action === RETENTION_PURGED)).toHaveLength(1);
    expect(rest.filter((e) => e.subject.startsWith('s1'))).toHaveLength(6);
  });
});
