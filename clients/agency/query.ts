// The entry point of targeted queries for the rest of the client (console,
// benchmarks, tests); the flow, its storage and its CLI output are in query/.
export * from './query/index.js';
