/**
 * Serves the web UI (web/, built by `npm run build:web` into dist/web/): the
 * page shell and its assets are public, since they hold no data; every data
 * call of the page carries the user's token. Hashed assets are cached for a
 * year (gzipped at build time, sent so to clients that accept it), the shell
 * never; client routes (/vms/web, /storage…) get the shell.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PolyvisorError } from '../../shared/index.js';
import { TEXT } from '../schemas/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** Scripts only from the daemon (styles may be inline: xterm.js and noVNC set them at run time); data only from its API and WebSockets on the same origin; no framing. */
export const UI_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
].join('; ');

const ASSET = /^[A-Za-z0-9._-]{1,128}$/;
const CLIENT_ROUTES = ['/vms/:name', '/vms/:name/edit', '/vms/:name/clone', '/create', '/storage', '/operations', '/endpoints', '/networks', '/stacks', '/import', '/cluster', '/login'];

/** dist/web beside the compiled dist/api/routes, or from src/ (tests under tsx) the built dist/web. */
export function webRoot(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [path.resolve(here, '../../web'), path.resolve(here, '../../../dist/web')].find((d) => existsSync(path.join(d, 'index.html')));
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Polyvisor</title>
<p>The web UI is not built. Run <code>npm run build</code> (it builds dist/web too) and restart polyvisord.</p>`;

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', UI_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
}

/** `root`: the built UI's folder; null serves a page that says how to build it. */
export function uiRoutes(app: FastifyInstance, root: string | null = webRoot() ?? null): void {
  const shell = async (_req: unknown, reply: FastifyReply) => {
    secure(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache');
    if (!root) return reply.status(503).send(NOT_BUILT);
    return reply.send(await readFile(path.join(root, 'index.html')));
  };
  const doc = { summary: 'The web UI shell (its data calls need a token over TCP)', tags: ['system'], response: { status: 200, description: 'the page (503 with a page that says how to build it when dist/web is missing)', contentType: TEXT.html } };
  app.get('/', { config: { permission: 'public', doc } }, shell);
  for (const url of CLIENT_ROUTES) app.get(url, { config: { permission: 'public', doc: { ...doc, summary: `The web UI shell for the client route ${url}` } } }, shell);
  app.get<{ Params: { file: string } }>('/assets/:file', {
    config: { permission: 'public', doc: { summary: 'A built asset of the web UI (content-hashed, cached for a year)', tags: ['system'], response: { status: 200, description: 'the file, typed by its extension (gzip-encoded when accepted)', contentType: TEXT.asset } } },
  }, async (req, reply) => {
    const file = req.params.file;
    const missing = (): never => { throw new PolyvisorError('ROUTE_NOT_FOUND', 'no such asset of the web UI'); };
    if (!root || !ASSET.test(file) || file.startsWith('.') || file.endsWith('.gz')) return missing();
    const full = path.join(root, 'assets', file);
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? await readFile(`${full}.gz`).catch(() => undefined) : undefined;
    const buf = gzip ?? await readFile(full).catch(() => undefined);
    if (!buf) return missing();
    if (gzip) reply.header('content-encoding', 'gzip');
    return secure(reply).type(TYPES[path.extname(file)] ?? 'application/octet-stream').header('vary', 'accept-encoding')
      .header('cache-control', 'public, max-age=31536000, immutable').send(buf);
  });
}
