import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served under a strict CSP (script-src/style-src 'self'), so the
// build must not emit inline scripts: the modulepreload polyfill is turned off and
// assets are never inlined as data: URIs in script or style.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  clearScreen: false,
  build: {
    outDir: fileURLToPath(new URL('../../../dist/console-ui', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
