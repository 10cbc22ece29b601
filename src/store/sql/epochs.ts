// Epochs and the agencies' signed per-pair epoch keys (protocol/SPEC.md §8.5, §8.7,
// src/API.md, "Epochs"): an epoch is appended by one statement that picks the
// next sequence number itself, a key is inserted once per agency, epoch and pair.
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import * as schema from '../schema.js';
import type { AuditInput } from '../../audit.js';
import type { EpochKeyRecord, EpochRecord, PutResult } from '../types.js';
import { type AppendWith, insertOnce } from './audit.js';
import type { ControlPlane } from './control.js';
import { atomic, notInitialised, once, type Executor } from './executor.js';
import { buf, sameBytes, u8 } from './rows.js';

const { epochs, pairEpochKeys } = schema;

export function epochRows(x: Executor, appendWith: AppendWith) {
  const { db } = x;

  const keyOf = once(() =>
    db
      .select()
      .from(pairEpochKeys)
      .where(and(eq(pairEpochKeys.agency, sql.placeholder('agency')), eq(pairEpochKeys.epoch, sql.placeholder('epoch')), eq(pairEpochKeys.pairId, sql.placeholder('pairId'))))
      .prepare(),
  );
  const latestEpoch = once(() => db.select().from(epochs).orderBy(desc(epochs.seq)).limit(1).prepare());

  const getPairEpochKey = async (agency: string, epoch: string, pairId: string): Promise<EpochKeyRecord | undefined> => {
    const r = await keyOf().get({ agency, epoch, pairId });
    return r
      ? {
          agency: r.agency,
          epoch: r.epoch,
          pairId: r.pairId,
          agreementId: r.agreementId,
          agreementVersion: r.agreementVersion,
          publicKey: u8(r.publicKey),
          signature: u8(r.signature),
          publishedAt: r.publishedAt,
        }
      : undefined;
  };

  return {
    async currentEpoch(): Promise<EpochRecord> {
      const r = await latestEpoch().get();
      if (!r) throw notInitialised(x);
      return { id: r.id, startedAt: r.startedAt };
    },

    async listEpochs(): Promise<EpochRecord[]> {
      return db.select({ id: epochs.id, startedAt: epochs.startedAt }).from(epochs).orderBy(asc(epochs.seq)).all();
    },

    async rotateEpoch(at: string): Promise<{ epoch: EpochRecord; previous: string }> {
      // One statement picks the next sequence number and inserts it, so two rotations never take the same one.
      const [inserted, prev] = await atomic(x, [
        sql`INSERT INTO ${epochs} (seq, id, started_at)
          SELECT max(seq) + 1, 'e' || (max(seq) + 1), ${at} FROM ${epochs} HAVING count(*) > 0
          RETURNING seq, id, started_at AS startedAt`,
        sql`SELECT id FROM ${epochs} WHERE seq = (SELECT max(seq) - 1 FROM ${epochs})`,
      ]);
      const epoch = inserted?.rows[0] as { id: string; startedAt: string } | undefined;
      const previous = prev?.rows[0] as { id: string } | undefined;
      if (!epoch || !previous) throw notInitialised(x);
      return { epoch: { id: epoch.id, startedAt: epoch.startedAt }, previous: previous.id };
    },

    async rotateEpochIfStartedBy(startedBy: string, at: string): Promise<{ epoch: EpochRecord; previous: string } | undefined> {
      // The age condition sits in the inserting statement itself: a tick that lost the race sees the epoch
      // the winner just started, too young to rotate, and inserts nothing.
      const [inserted] = await atomic(x, [
        sql`INSERT INTO ${epochs} (seq, id, started_at)
          SELECT seq + 1, 'e' || (seq + 1), ${at} FROM ${epochs}
          WHERE seq = (SELECT max(seq) FROM ${epochs}) AND started_at <= ${startedBy}
          RETURNING seq, id, started_at AS startedAt`,
      ]);
      const epoch = inserted?.rows[0] as { seq: number; id: string; startedAt: string } | undefined;
      if (!epoch) return undefined;
      const prev = await db.select({ id: epochs.id }).from(epochs).where(eq(epochs.seq, epoch.seq - 1)).get();
      if (!prev) throw notInitialised(x);
      return { epoch: { id: epoch.id, startedAt: epoch.startedAt }, previous: prev.id };
    },

    getPairEpochKey,

    async putPairEpochKey(k: EpochKeyRecord, audit?: AuditInput): Promise<PutResult> {
      const values = {
        agency: k.agency,
        epoch: k.epoch,
        pairId: k.pairId,
        agreementId: k.agreementId,
        agreementVersion: k.agreementVersion,
        publicKey: buf(k.publicKey),
        signature: buf(k.signature),
        publishedAt: k.publishedAt,
      };
      const existing = async (): Promise<'same' | 'conflict' | undefined> => {
        const r = await getPairEpochKey(k.agency, k.epoch, k.pairId);
        if (!r) return undefined;
        // The same key under the same agreement version; a re-signed statement of it (Ed25519 is deterministic) is the same.
        return sameBytes(r.publicKey, k.publicKey) && r.agreementVersion === k.agreementVersion ? 'same' : 'conflict';
      };
      // The key and its audit entry in one batch.
      const insert = {
        plain: () => db.insert(pairEpochKeys).values(values),
        ignoring: () => db.insert(pairEpochKeys).values(values).onConflictDoNothing().run(),
      };
      return insertOnce<PutResult>(x, appendWith, audit, insert, existing, 'created', 'conflict');
    },
  } satisfies Partial<ControlPlane>;
}
