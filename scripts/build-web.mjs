// Builds the web UI (web/) into dist/web without a moment where it is missing:
// Vite writes into dist/web.next, the content-hashed assets are copied beside
// the ones a running daemon may still serve, and index.html is renamed over the
// old one last; build.json lists this build's assets. Assets no build has
// referenced for an hour are removed.
// Used by `npm run build` and `npm run build:web`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'web');
const next = path.join(root, 'dist', `web.next-${process.pid}`);
const quiet = process.argv.includes('--quiet');

try {
  await build({ configFile: path.join(root, 'web', 'vite.config.ts'), logLevel: quiet ? 'warn' : 'info', build: { outDir: next, emptyOutDir: true } });
  mkdirSync(path.join(out, 'assets'), { recursive: true });
  const now = new Date();
  // A gzip copy of each asset (level 9, once at build time), served to clients that accept it.
  for (const f of readdirSync(path.join(next, 'assets'))) {
    const p = path.join(next, 'assets', f);
    writeFileSync(`${p}.gz`, gzipSync(readFileSync(p), { level: 9 }));
  }
  const fresh = new Set(readdirSync(path.join(next, 'assets')));
  for (const f of fresh) {
    const dest = path.join(out, 'assets', f);
    if (!existsSync(dest)) {
      copyFileSync(path.join(next, 'assets', f), `${dest}.tmp-${process.pid}`);
      renameSync(`${dest}.tmp-${process.pid}`, dest);
    }
    utimesSync(dest, now, now); // "referenced by a build" time, read by the pruning below
  }
  const listed = [...fresh].filter((f) => !f.endsWith('.gz')).sort();
  writeFileSync(path.join(next, 'build.json'), `${JSON.stringify({ builtAt: now.toISOString(), assets: listed }, null, 2)}\n`);
  renameSync(path.join(next, 'build.json'), path.join(out, 'build.json'));
  renameSync(path.join(next, 'index.html'), path.join(out, 'index.html'));
  const hourAgo = Date.now() - 3600_000;
  for (const f of readdirSync(path.join(out, 'assets'))) {
    const p = path.join(out, 'assets', f);
    if (!fresh.has(f) && statSync(p).mtimeMs < hourAgo) rmSync(p, { force: true });
  }
} finally {
  rmSync(next, { recursive: true, force: true });
}
