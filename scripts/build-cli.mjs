// Bundles the CLI (src/cli/main.ts) with esbuild into dist/cli/main.js, over tsc's copy, so that
// `polyvisor` loads one file instead of ~60 ES modules (see docs/benchmarks.md, "cli").
// Code only some commands need (zod for `spec`, yaml for spec files) goes into content-hashed
// chunks beside it (NAME-HASH.js, same depth, so `import.meta.url`-relative paths still hold),
// loaded by dynamic import when such a command runs. Used by `npm run build`, after tsc.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli');
const CHUNK = /^[\w-]+-[A-Z0-9]{8}\.js(\.map)?$/;

const result = await build({
  entryPoints: { main: path.join(root, 'src', 'cli', 'main.ts') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outdir,
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // commander is CommonJS: its require() calls need a real `require` inside an ES module.
  banner: { js: "import { createRequire as __pvCreateRequire } from 'node:module'; const require = __pvCreateRequire(import.meta.url);" },
});

// Chunks are content-hashed: drop the ones this build did not write.
const written = new Set(Object.keys(result.metafile.outputs).map((f) => path.resolve(root, f)));
for (const f of readdirSync(outdir)) {
  const p = path.join(outdir, f);
  if (CHUNK.test(f) && !written.has(p)) rmSync(p, { force: true });
}
