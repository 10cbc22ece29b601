// The Concordat agency SDK: a signed client for the coordinator API (src/API.md).
export * from './api.js';
export * from './client.js';
export * from './errors.js';
