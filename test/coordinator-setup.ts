// Setup of every Node test file (vitest.config.ts): the shared suite runs on
// the SQLite store (coordinator-runtime.ts explains the registration).
import { useRuntime } from './coordinator-runtime.js';
import { nodeRuntime } from './coordinator-runtime.node.js';

useRuntime(nodeRuntime);
