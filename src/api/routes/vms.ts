/** /v1/vms: thin routes (DESIGN rule 1): validate, call the service, map the result. */
import { open, stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { fail, validateName } from '../../shared/index.js';
import { validateSpec } from '../../spec/index.js';
import type { VmService } from '../../lifecycle/index.js';
import { presentVm } from '../present.js';

const ACTIONS = ['start', 'stop', 'kill', 'pause', 'resume', 'reboot', 'suspend'] as const;
type Action = (typeof ACTIONS)[number];

interface NameParams { name: string }

function parseLabelSelector(q: unknown): Record<string, string> | undefined {
  if (q === undefined) return undefined;
  const items = (Array.isArray(q) ? q : [q]).flatMap((s) => String(s).split(','));
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([a-z0-9][a-z0-9._/-]{0,62})=([A-Za-z0-9._-]{0,63})$/.exec(item.trim());
    if (!m) fail('INVALID_ARGUMENT', `label selector ${JSON.stringify(item)} must look like key=value`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) fail('INVALID_BODY', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function vmRoutes(app: FastifyInstance, service: VmService): void {
  app.get<{ Querystring: { label?: string | string[] } }>('/v1/vms', async (req) => {
    const labels = parseLabelSelector(req.query.label);
    const list = await service.list(labels ? { labels } : undefined);
    return list.map((r) => presentVm(service, r));
  });

  app.post('/v1/vms', async (req, reply) => {
    const body = objectBody(req.body);
    if (!('spec' in body)) fail('INVALID_BODY', 'the body must be {"spec": {...}}');
    const rec = await service.create(validateSpec(body['spec']));
    return reply.status(201).send(presentVm(service, rec));
  });

  app.get<{ Params: NameParams }>('/v1/vms/:name', async (req) => presentVm(service, await service.get(req.params.name)));

  app.delete<{ Params: NameParams; Querystring: { force?: string } }>('/v1/vms/:name', async (req, reply) => {
    await service.remove(req.params.name, { force: req.query.force === 'true' });
    return reply.status(204).send();
  });

  app.post<{ Params: NameParams & { action: string } }>('/v1/vms/:name/:action', async (req) => {
    const { name, action } = req.params;
    if (!(ACTIONS as readonly string[]).includes(action)) fail('ROUTE_NOT_FOUND', `unknown action ${action}; use one of ${ACTIONS.join(', ')}`);
    const body = objectBody(req.body);
    const rec = await runAction(service, name, action as Action, body);
    return presentVm(service, rec);
  });

  app.get<{ Params: NameParams; Querystring: { bytes?: string } }>('/v1/vms/:name/serial-log', async (req, reply) => {
    const rec = await service.get(req.params.name);
    const want = Math.min(Math.max(Number(req.query.bytes ?? 65536) || 65536, 1), 4 * 1024 * 1024);
    const file = service.files(rec).serialLog;
    const st = await stat(file).catch(() => undefined);
    if (!st) return reply.type('text/plain; charset=utf-8').send('');
    const fh = await open(file, 'r');
    try {
      const len = Math.min(want, st.size);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, st.size - len);
      return reply.type('text/plain; charset=utf-8').send(buf.toString('utf8'));
    } finally {
      await fh.close();
    }
  });
}

async function runAction(service: VmService, name: string, action: Action, body: Record<string, unknown>) {
  validateName(name, 'VM name');
  switch (action) {
    case 'stop': {
      const t = body['timeoutSeconds'];
      if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 3600)) {
        fail('INVALID_BODY', 'timeoutSeconds must be a whole number from 1 to 3600');
      }
      const force = body['force'];
      if (force !== undefined && typeof force !== 'boolean') fail('INVALID_BODY', 'force must be true or false');
      return service.stop(name, { ...(t !== undefined ? { timeoutSeconds: t } : {}), force: force === true });
    }
    case 'start': return service.start(name);
    case 'kill': return service.kill(name);
    case 'pause': return service.pause(name);
    case 'resume': return service.resume(name);
    case 'reboot': return service.reboot(name);
    case 'suspend': return service.suspend(name);
  }
}
