// Deployment configuration (src/API.md, "Deployment configuration"): the
// closed list of purposes a targeted query may cite, and retention. Stored in
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

export interface RetentionConfig {
  /**
   * Days an epoch's pair data (blinded sets, tokens, canaries, matches) is
   * kept after the epoch ended; null keeps it until the pair completes in the
   * next epoch.
   */
  dataDays: number | null;
  /** Days audit entries are kept. */
  auditDays: number;
}

export interface DeploymentConfig {
  purposes: string[];
  retention: RetentionConfig;
}

export function defaultConfig(): DeploymentConfig {
  return { purposes: [...DEFAULT_PURPOSES], retention: { dataDays: null, auditDays: DEFAULT_AUDIT_DAYS } };
}
