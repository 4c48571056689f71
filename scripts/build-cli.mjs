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

/**
 * node:tls (with crypto behind it) costs ~4 ms of start-up and only https remotes use it; crypto's
 * randomBytes/randomUUID are needed only when the CLI writes a file. For our own modules these
 * builtins become stand-ins that load the real one on first use. A stand-in offers only the names
 * listed here: importing another name from them fails the build, never the run. Same for
 * commander's child_process.
 */
const LAZY = {
  'node:tls': { default: true, named: [] },
  'node:crypto': { default: false, named: ['randomBytes', 'randomFillSync', 'randomUUID', 'createHash', 'createPublicKey', 'verify'] }, // the last three: `release verify`
};
const lazyBuiltins = {
  name: 'polyvisor-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(tls|crypto)$/ }, (a) => (a.importer.startsWith(path.join(root, 'src'))
      ? { path: a.path, namespace: 'lazy-builtin' } : undefined));
    // commander needs child_process only to run executable subcommands, which polyvisor has none of.
    b.onResolve({ filter: /^node:child_process$/ }, (a) => (a.importer.includes(`${path.sep}commander${path.sep}`)
      ? { path: a.path, namespace: 'lazy-builtin-cjs' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin-cjs' }, (a) => ({
      contents: `let mod; module.exports = new Proxy({}, { get: (_t, k) => (mod ??= require(${JSON.stringify(a.path)}))[k] });`,
      loader: 'js', resolveDir: root,
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => {
      const spec = LAZY[a.path];
      const lines = [
        "import { createRequire } from 'node:module';",
        `let mod; const load = () => (mod ??= createRequire(import.meta.url)(${JSON.stringify(a.path)}));`,
        ...(spec.default ? ['export default new Proxy({}, { get: (_t, k) => load()[k] });'] : []),
        ...spec.named.map((n) => `export const ${n} = (...args) => load().${n}(...args);`),
      ];
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};

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
  // Our own modules have no import-time side effects the CLI relies on: let esbuild drop the ones
  // the CLI does not use (shared/spawn's child_process, log-context's async_hooks…), not only
  // unused functions. A module that needs its side effects must be imported for a name it exports.
  plugins: [lazyBuiltins, {
    name: 'polyvisor-side-effect-free',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (a) => {
        if (!a.resolveDir.startsWith(path.join(root, 'src'))) return undefined;
        return { path: path.resolve(a.resolveDir, a.path.replace(/\.js$/, '.ts')), sideEffects: false };
      });
    },
  }],
  // commander is CommonJS: its require() calls need a real `require` inside an ES module.
  banner: { js: "import { createRequire as __pvCreateRequire } from 'node:module'; const require = __pvCreateRequire(import.meta.url);" },
});

// Chunks are content-hashed: drop the ones this build did not write.
const written = new Set(Object.keys(result.metafile.outputs).map((f) => path.resolve(root, f)));
for (const f of readdirSync(outdir)) {
  const p = path.join(outdir, f);
  if (CHUNK.test(f) && !written.has(p)) rmSync(p, { force: true });
}
