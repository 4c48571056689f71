/** The fastify app: one plugin per resource, errors mapped from the catalogue. */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { VmService } from '../lifecycle/index.js';
import type { Logger } from '../shared/index.js';
import { ConsoleHub } from './console-hub.js';
import { installErrorHandling } from './errors.js';
import { consoleRoutes } from './routes/console.js';
import { systemRoutes } from './routes/system.js';
import { uiRoutes } from './routes/ui.js';
import { vmRoutes } from './routes/vms.js';

export interface ApiOptions {
  service: VmService;
  logger: Logger;
  version: string;
  host: string;
  /** pino-compatible logger instance for fastify's request logs. */
  fastifyLogger?: unknown;
}

export async function buildApi(o: ApiOptions): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const hub = new ConsoleHub(o.logger.child({ component: 'console' }));
  const app: FastifyInstance = Fastify({
    ...(o.fastifyLogger ? { loggerInstance: o.fastifyLogger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    connectionTimeout: 0,
    requestTimeout: 300_000,
    maxParamLength: 200,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  installErrorHandling(app);
  systemRoutes(app, { version: o.version, host: o.host });
  vmRoutes(app, o.service);
  consoleRoutes(app, o.service, hub);
  uiRoutes(app);
  return {
    app,
    close: async () => {
      hub.closeAll();
      await app.close();
    },
  };
}
