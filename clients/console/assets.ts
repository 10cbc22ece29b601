// The console's static files: built by Vite (clients/console/ui →
// dist/console-ui) and shipped in the package, read into memory once at
// start so nothing on disk is served by path.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Uint8Array;
  type: string;
  /** Vite's content-hashed files under assets/ never change: cache them for good. */
  immutable: boolean;
}

export type Assets = ReadonlyMap<string, Asset>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/console-ui of the package, found by walking up from this module (sources or build output). */
export function defaultAssetsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, 'console-ui'), join(dir, 'dist', 'console-ui')]) {
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function loadAssets(dir: string): Assets {
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p).split(sep).join('/');
        out.set(`/${rel}`, {
          body: new Uint8Array(readFileSync(p)),
          type: TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  walk(dir);
  if (!out.has('/index.html')) throw new Error(`${dir}: no index.html`);
  return out;
}
