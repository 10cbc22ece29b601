// The coordinator's own rows: its secrets and first epoch (written once by
// `coordinator init`, or by the Worker's first request), the deployment
// configuration (src/API.md, "Deployment configuration") and the signature nonces that
// refuse replays (RFC 9421 §7.2.2).
import { eq, lt, sql } from 'drizzle-orm';
import { randomBytes } from '../../../protocol/rng.js';
import { DEFAULT_PROBING, defaultConfig, type DeploymentConfig, type ProbingConfig } from '../../config.js';
import * as schema from '../schema.js';
import type { CoordinatorSecrets, InitialiseInput } from '../types.js';
import type { ControlPlane } from './control.js';
import { atomic, isConstraintError, once, type Executor } from './executor.js';
import { buf, u8 } from './rows.js';

const { auditKeys, config, coordinator, epochs, nonces } = schema;

/** Nonces older than this are refused as stale anyway (RFC 9421 `created` window is 300 s). */
const NONCE_RETENTION_S = 600;
const NONCE_PRUNE_EVERY_S = 60;

export function coordinatorRows(x: Executor) {
  const { db } = x;
  let lastNoncePrune = 0;
  const configRow = once(() => db.select().from(config).where(eq(config.id, 1)).prepare());
  const insertNonce = once(() =>
    db
      .insert(nonces)
      .values({ keyid: sql.placeholder('keyid'), nonce: sql.placeholder('nonce'), created: sql.placeholder('created') })
      .onConflictDoNothing()
      .prepare(),
  );
  const already = () => new Error('coordinator: this database is already initialised');

  const configUpsert = (c: DeploymentConfig, at: string) => {
    const values = {
      purposes: JSON.stringify(c.purposes),
      dataDays: c.retention.dataDays,
      idleDays: c.retention.idleDays,
      auditDays: c.retention.auditDays,
      rotateDays: c.epochs.rotateDays,
      probing: JSON.stringify(c.probing),
      updatedAt: at,
    };
    return db
      .insert(config)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: config.id, set: values });
  };

  return {
    async initialise(input: InitialiseInput): Promise<void> {
      if (await db.select({ id: coordinator.id }).from(coordinator).get()) throw already();
      try {
        await atomic(x, [
          db.insert(coordinator).values({ id: 1, adminKey: buf(input.adminKey), handleKey: buf(input.handleKey), createdAt: input.at }),
          db.insert(epochs).values({ seq: 1, id: input.epoch.id, startedAt: input.epoch.startedAt }),
          ...(input.config ? [configUpsert(input.config, input.at)] : []),
          // The audit log's keys beside the other secrets (protocol/SPEC.md §9); kept if a first append already made them.
          db
            .insert(auditKeys)
            .values({ id: 1, logKey: buf(input.auditKeys?.logKey ?? randomBytes(32)), saltKey: buf(input.auditKeys?.saltKey ?? randomBytes(32)), createdAt: input.at })
            .onConflictDoNothing(),
        ]);
      } catch (err) {
        // Another request initialised it between the check and the batch.
        if (isConstraintError(err)) throw already();
        throw err;
      }
    },

    async getSecrets(): Promise<CoordinatorSecrets | undefined> {
      const r = await db.select().from(coordinator).where(eq(coordinator.id, 1)).get();
      return r ? { adminKey: u8(r.adminKey), handleKey: u8(r.handleKey) } : undefined;
    },

    /** Replace the admin public key (on Workers the `ADMIN_PUBLIC_KEY` secret is authoritative). */
    async setAdminKey(adminKey: Uint8Array): Promise<void> {
      await db.update(coordinator).set({ adminKey: buf(adminKey) }).where(eq(coordinator.id, 1)).run();
    },

    async getConfig(): Promise<DeploymentConfig> {
      const r = await configRow().get();
      if (!r) return defaultConfig();
      return {
        purposes: JSON.parse(r.purposes) as string[],
        retention: { dataDays: r.dataDays, idleDays: r.idleDays, auditDays: r.auditDays },
        epochs: { rotateDays: r.rotateDays },
        probing: r.probing === null ? { ...DEFAULT_PROBING } : storedProbing(r.probing),
      };
    },

    async putConfig(c: DeploymentConfig, at: string): Promise<void> {
      await configUpsert(c, at).run();
    },

    async useNonce(keyid: string, nonce: string, createdS: number, nowS: number): Promise<boolean> {
      if (nowS - lastNoncePrune >= NONCE_PRUNE_EVERY_S) {
        // Taken before the delete, so requests arriving meanwhile do not prune again.
        lastNoncePrune = nowS;
        await db.delete(nonces).where(lt(nonces.created, nowS - NONCE_RETENTION_S)).run();
      }
      return x.changes(await insertNonce().run({ keyid, nonce, created: createdS })) === 1;
    },
  } satisfies Partial<ControlPlane>;
}

/** The stored probing settings, every member present (a row written before a member existed takes its default). */
function storedProbing(json: string): ProbingConfig {
  const v = JSON.parse(json) as Partial<ProbingConfig>;
  return { ...DEFAULT_PROBING, ...v };
}
