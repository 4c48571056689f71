/**
 * GET /metrics in the Prometheus text format, and the API request series.
 * Authenticated like every route: `metrics:read`, which every role (viewer up)
 * holds; Prometheus scrapes with a viewer token (bearer_token in its config).
 */
import type { FastifyInstance } from 'fastify';
import type { MetricsExporter } from '../../metrics/index.js';
import { TEXT } from '../schemas/index.js';

export function metricsRoutes(app: FastifyInstance, exporter: MetricsExporter): void {
  app.addHook('onResponse', async (req, reply) => {
    // The route template (/v1/vms/:name), never the raw URL: cardinality stays bounded.
    const route = req.routeOptions.url ?? 'unmatched';
    exporter.apiRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', {
    config: { permission: 'metrics:read', doc: { summary: 'Prometheus metrics of the host, the VMs and the daemon (text format 0.0.4)', tags: ['system'], response: { status: 200, description: 'the Prometheus text exposition', contentType: TEXT.prometheus } } },
  }, async (_req, reply) => reply.type(exporter.contentType).send(await exporter.render()));
}
