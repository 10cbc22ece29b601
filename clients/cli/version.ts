// `concordat --version`: the package's version (package.json, found above
// this module in the source tree and in dist/ alike) and the protocol spoken.
import { readFileSync } from 'node:fs';
import { CONCORDAT_V2_CONTEXT } from '../../protocol/constants.js';
import { PROTOCOL_NAME } from '../../wire/protocol-name.js';

/** The version of the concordat package this module belongs to. */
export function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'concordat' && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

/** The line `--version` prints. */
export function versionLine(program: string): string {
  return `${program} ${packageVersion()} (protocol ${PROTOCOL_NAME}, suite ${CONCORDAT_V2_CONTEXT})`;
}
