/** Builds the web UI into dist/web (served by polyvisord); `npm run build:web`. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // esbuild compiles TSX with React's automatic runtime; no Babel plugin needed (no fast refresh in production).
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:8006', ws: true } } },
});
