// The part of `cloudflare:test` (@cloudflare/vitest-pool-workers) the Workers
// runs of the coordinator suite use, declared for the project's Node
// type-check (the pool's own declarations need @cloudflare/workers-types).
declare module 'cloudflare:test' {
  export function runInDurableObject<R>(stub: unknown, callback: (instance: any, state: any) => R | Promise<R>): Promise<R>;
  export function applyD1Migrations(db: unknown, migrations: unknown[], migrationsTableName?: string): Promise<void>;
  export function createExecutionContext(): { waitUntil(promise: Promise<unknown>): void };
  export function waitOnExecutionContext(ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<void>;
}
