/**
 * GET /v1/events: VM state changes and operation progress as Server-Sent
 * Events, or as JSON text frames on a WebSocket at the same path; `?vm=NAME`
 * filters. A client that reads too slowly is dropped rather than buffered.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { EventView } from '../../spec/index.js';
import { matchesVm, type EventBus } from '../event-bus.js';
import { redactForRole } from '../redact.js';
import { queryOf } from '../validate.js';
import { STREAMS_PER_TOKEN, StreamQuota } from '../auth/stream-quota.js';
import { eventSchema, TEXT } from '../schemas/index.js';

const eventsQuery = z.object({ vm: z.string().max(63).optional().describe('only events of this VM') }).strict();
const MAX_BUFFERED = 1024 * 1024;
const EVENT_STREAM = { status: 200, description: 'Server-Sent Events: `id: SEQ`, `event: TYPE`, `data: JSON` of the event', contentType: TEXT.events, itemSchema: eventSchema };
const EVENT_SOCKET = { status: 101, description: 'WebSocket upgrade: one JSON text frame per event' };
const KEEPALIVE_MS = 15_000;
export { STREAMS_PER_TOKEN };

export function eventRoutes(app: FastifyInstance, bus: EventBus, perToken = STREAMS_PER_TOKEN): void {
  const open = new Set<() => void>();
  const quota = new StreamQuota('event streams', perToken);
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.route<{ Querystring: { vm?: string } }>({
    method: 'GET',
    url: '/v1/events',
    config: { permission: 'event:read', doc: { summary: `Event stream (text/event-stream; a WebSocket upgrade gets JSON frames); at most ${perToken} at once per token`, tags: ['events'], query: eventsQuery, response: EVENT_STREAM, otherResponses: [EVENT_SOCKET] } },
    preHandler: async (req) => quota.check(req.principal),
    handler: async (req, reply) => {
      const q = queryOf<z.infer<typeof eventsQuery>>(req);
      const lastId = Number(req.headers['last-event-id']);
      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': polyvisor events\n\n');
      const release = quota.take(req.principal);
      const end = (): void => {
        release();
        clearInterval(keepalive);
        unsubscribe();
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      const unsubscribe = bus.subscribe((e: EventView) => {
        if (!matchesVm(e, q.vm)) return;
        if (res.writableLength > MAX_BUFFERED) return void res.destroy();
        res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(redactForRole(e, req.principal?.role))}\n\n`);
      }, Number.isInteger(lastId) && lastId >= 0 ? lastId : undefined);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      open.add(end);
      res.on('close', end);
    },
    wsHandler: (socket, req) => {
      const vm = (req.query as { vm?: unknown }).vm;
      const filter = typeof vm === 'string' ? vm : undefined;
      const release = quota.take(req.principal);
      const unsubscribe = bus.subscribe((e) => {
        if (!matchesVm(e, filter)) return;
        if (socket.bufferedAmount > MAX_BUFFERED) return void socket.terminate();
        socket.send(JSON.stringify(redactForRole(e, req.principal?.role)));
      });
      const end = (): void => {
        release();
        unsubscribe();
        open.delete(end);
        socket.close(1001, 'daemon shutting down');
      };
      open.add(end);
      socket.on('close', () => {
        release();
        unsubscribe();
        open.delete(end);
      });
    },
  });
}
