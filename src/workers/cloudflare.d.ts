// The slice of the Workers runtime API the coordinator uses, declared here so
// that the Workers entry and its stores type-check under the project's Node
// configuration (@cloudflare/workers-types redeclares fetch, Request and
// Response globals that clash with @types/node). Module declarations only:
// nothing here adds a global.

declare module 'cloudflare:workers' {
  /** SQLite storage of a Durable Object (drizzle-orm/durable-sqlite reads `sql` and `transactionSync`). */
  export interface DurableObjectStorage {
    readonly sql: { exec(query: string, ...bindings: unknown[]): unknown };
    transactionSync<T>(closure: () => T): T;
    deleteAll(): Promise<void>;
  }

  export interface DurableObjectState {
    readonly storage: DurableObjectStorage;
    blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
  }

  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }

  /** The bindings of the running Worker (also inside the vitest pool). */
  export const env: Record<string, unknown>;
}

/** Migration SQL bundled as text (wrangler `[[rules]] type = "Text"`; a Vite plugin in the Workers test config). */
declare module '*.sql' {
  const text: string;
  export default text;
}
