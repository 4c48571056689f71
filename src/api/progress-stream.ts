/**
 * Progress of long storage steps over plain HTTP: with `?progress=ndjson` the
 * answer is `application/x-ndjson`, one `{"progress":…}` line per update and
 * a last line `{"result":…}` or `{"error":{code,message,hint}}`. Without it,
 * the route answers once the work is done, like any other.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PolyvisorError } from '../shared/index.js';

export type Report = (progress: Record<string, unknown>) => void;

export async function withProgress<T>(req: FastifyRequest, reply: FastifyReply, status: number, work: (report: Report) => Promise<T>): Promise<unknown> {
  const q = req.query as { progress?: string } | undefined;
  if (q?.progress !== 'ndjson') {
    const result = await work(() => undefined);
    return reply.status(status).send(result);
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  let last = 0;
  const report: Report = (p) => {
    const now = Date.now();
    if (now - last < 100 && p['fraction'] !== 1) return; // at most ~10 lines a second
    last = now;
    raw.write(JSON.stringify({ progress: p }) + '\n');
  };
  try {
    const result = await work(report);
    raw.end(JSON.stringify({ result: result ?? null }) + '\n');
  } catch (err) {
    const e = err instanceof PolyvisorError ? err : new PolyvisorError('INTERNAL', 'internal error', { cause: err });
    if (!(err instanceof PolyvisorError)) req.log.error({ err }, 'internal error');
    raw.end(JSON.stringify({ error: e.toJSON() }) + '\n');
  }
  return reply;
}
