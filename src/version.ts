/** Reported by `GET /`; kept in step with package.json. */
export const COORDINATOR_VERSION = '0.1.0';
export const SERVICE_NAME = 'concordat-coordinator';
