#!/usr/bin/env node
// The `concordat` command. Agency commands live in clients/, the coordinator's
// own commands (`concordat coordinator …`) in src/; the two share only protocol/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(fileURLToPath(new URL('clients/cli/main.js', dist)))) {
  console.error('concordat: the build output is missing; run `npm install` (or `npm run build`) in the project first.');
  process.exit(2);
}
const entry = process.argv[2] === 'coordinator' ? 'src/cli/main.js' : 'clients/cli/main.js';
const { main } = await import(new URL(entry, dist).href);
process.exitCode = await main(process.argv.slice(2));
