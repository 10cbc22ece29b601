// Types of do-migrations.js (see there why it is JavaScript).
export declare const doMigrations: {
  journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
  migrations: Record<string, string>;
};
