// Deployment configuration (src/API.md, "Deployment configuration"): the
// closed list of purposes a targeted query may cite, retention, scheduled
// epoch rotation, and the count-mode snapshot and churn-alert settings. Stored in
// the coordinator database; these are the defaults of a fresh deployment.

export const DEFAULT_PURPOSES = [
  'terrorism',
  'drug_trafficking',
  'human_trafficking',
  'cybercrime',
  'money_laundering',
  'organised_crime',
] as const;

export const DEFAULT_AUDIT_DAYS = 730;
export const DEFAULT_QUERY_PER_DAY = 50;
export const DEFAULT_QUERY_MAX_VALUES = 100;

export const PURPOSE_RE = /^[a-z][a-z0-9_]{0,63}$/;

export const DEFAULT_DATA_DAYS = 7;
export const DEFAULT_IDLE_DAYS = 45;
export const DEFAULT_ROTATE_DAYS = 30;

export interface RetentionConfig {
  /**
   * Days an epoch's pair data (blinded sets, tokens, canaries, matches) is
   * kept after the epoch ended; null keeps it until the pair completes in the
   * next epoch.
   */
  dataDays: number | null;
  /**
   * Days without any upload by either side after which a pair's data of
   * every epoch is purged (src/API.md, "Audit export and retention"): blinded
   * data is not kept for a pair nobody syncs; null never purges an idle pair.
   */
  idleDays: number | null;
  /** Days audit entries are kept. */
  auditDays: number;
}

/** Scheduled epoch rotation (src/API.md, "Epochs"). */
export interface EpochConfig {
  /** Rotate once the current epoch is this many days old; 0 or null: only the admin rotates. */
  rotateDays: number | null;
}

/**
 * Count-mode snapshots and churn alerts (protocol/SPEC.md §3.3): a count pair
 * releases a new count at most once per `snapshotHours` and only after
 * max(`snapshotMinChurn`, `snapshotMinChurnPercent` % of the agreement's
 * maximum set size) positions changed; a side whose removals in an epoch
 * exceed `churnAlertPercent` % of the maximum set size is alerted once.
 */
export interface ProbingConfig {
  snapshotHours: number;
  snapshotMinChurn: number;
  snapshotMinChurnPercent: number;
  churnAlertPercent: number;
}

export const DEFAULT_PROBING: Readonly<ProbingConfig> = { snapshotHours: 24, snapshotMinChurn: 16, snapshotMinChurnPercent: 1, churnAlertPercent: 25 };

/** Positions (uploaded plus removed, both sides) that must change before a count pair takes a new snapshot. */
export function snapshotMinChurn(p: ProbingConfig, maxSetSize: number): number {
  return Math.max(p.snapshotMinChurn, Math.ceil((maxSetSize * p.snapshotMinChurnPercent) / 100));
}

/** A side's removals in an epoch above this raise its churn alert. */
export function churnAlertThreshold(p: ProbingConfig, maxSetSize: number): number {
  return Math.floor((maxSetSize * p.churnAlertPercent) / 100);
}

export interface DeploymentConfig {
  purposes: string[];
  retention: RetentionConfig;
  epochs: EpochConfig;
  probing: ProbingConfig;
}

export function defaultConfig(): DeploymentConfig {
  return {
    purposes: [...DEFAULT_PURPOSES],
    retention: { dataDays: DEFAULT_DATA_DAYS, idleDays: DEFAULT_IDLE_DAYS, auditDays: DEFAULT_AUDIT_DAYS },
    epochs: { rotateDays: DEFAULT_ROTATE_DAYS },
    probing: { ...DEFAULT_PROBING },
  };
}
