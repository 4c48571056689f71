/**
 * GET /v1/stats: one sample of the host and of every VM (cumulative counters
 * and gauges; a reader takes rates from two samples). A WebSocket upgrade of
 * the same URL gets a sample at once and then every `interval` seconds while
 * it stays open: the daemon pushes, a browser never polls.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sampleVms, type VmService } from '../../lifecycle/index.js';
import { readHost } from '../../metrics/index.js';
import { queryOf } from '../validate.js';
import { StreamQuota } from '../auth/stream-quota.js';
import { statsSchema, type StatsView } from '../schemas/index.js';

const statsQuery = z.object({
  interval: z.coerce.number().int().min(2).max(60).optional().describe('WebSocket only: seconds between samples (default 5)'),
}).strict();
const MAX_BUFFERED = 1024 * 1024;

export async function takeStats(service: VmService): Promise<StatsView> {
  const [host, vms] = await Promise.all([readHost(), sampleVms(service, { perVmTimeoutMs: 1_000 })]);
  return { at: new Date().toISOString(), host, vms };
}

/** One sampling for every reader within a second: ten open dashboards cost the monitors what one does. */
function coalesced(service: VmService, maxAgeMs = 1_000): () => Promise<StatsView> {
  let last: { t: number; view: Promise<StatsView> } | null = null;
  return () => {
    if (!last || Date.now() - last.t > maxAgeMs) {
      const view = takeStats(service);
      last = { t: Date.now(), view };
      view.catch(() => { last = null; });
    }
    return last.view;
  };
}

export function statsRoutes(app: FastifyInstance, service: VmService): void {
  const sample = coalesced(service);
  const open = new Set<() => void>();
  const quota = new StreamQuota('stats streams');
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.route({
    method: 'GET',
    url: '/v1/stats',
    config: { permission: 'metrics:read', doc: { summary: 'Host and per-VM resource counters (a WebSocket upgrade gets one every interval seconds)', tags: ['system'], query: statsQuery, response: { status: 200, description: 'one sample', schema: statsSchema }, otherResponses: [{ status: 101, description: 'WebSocket upgrade: one JSON sample per text frame, every interval seconds' }] } },
    preHandler: async (req) => {
      if (req.headers.upgrade !== undefined) quota.check(req.principal); // a plain GET is one answer, not a stream
    },
    handler: async (req) => {
      queryOf<z.infer<typeof statsQuery>>(req);
      return sample();
    },
    wsHandler: (socket, req) => {
      const parsed = statsQuery.safeParse(req.query);
      const everyMs = (parsed.success ? parsed.data.interval ?? 5 : 5) * 1000;
      const release = quota.take(req.principal);
      let busy = false;
      const push = async (): Promise<void> => {
        if (busy || socket.readyState !== socket.OPEN) return;
        busy = true;
        try {
          const s = await sample();
          if (socket.bufferedAmount > MAX_BUFFERED) return void socket.terminate();
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(s));
        } catch {
          // a failed sample is skipped; the next tick tries again
        } finally {
          busy = false;
        }
      };
      const timer = setInterval(() => void push(), everyMs);
      void push();
      const end = (): void => {
        release();
        clearInterval(timer);
        open.delete(end);
        socket.close(1001, 'daemon shutting down');
      };
      open.add(end);
      socket.on('close', () => {
        release();
        clearInterval(timer);
        open.delete(end);
      });
    },
  });
}
