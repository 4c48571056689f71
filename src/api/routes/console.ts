import type { FastifyInstance } from 'fastify';
import type { VmService } from '../../lifecycle/index.js';
import type { ConsoleHub } from '../console-hub.js';

export function consoleRoutes(app: FastifyInstance, service: VmService, hub: ConsoleHub): void {
  app.get<{ Params: { name: string } }>('/v1/vms/:name/console', {
    websocket: true,
    config: { permission: 'vm:console', doc: { summary: 'Serial console over a WebSocket (binary frames both ways)', tags: ['vms'], response: { status: 101, description: 'WebSocket upgrade; closes 4409 when the VM is not running, 4404 when there is none' } } },
  }, async (socket, req) => {
    try {
      const rec = await service.get(req.params.name);
      // A live move keeps the guest running until the switch-over: its console stays usable (it closes when the
      // source process ends; the client connects again to reach the VM where it now runs).
      const live = rec.state === 'running' || rec.state === 'paused' || (rec.state === 'migrating' && rec.runtime !== null);
      if (!live) {
        socket.close(4409, `VM ${rec.name} is ${rec.state}; start it first`);
        return;
      }
      hub.attach(rec.name, service.files(rec).serialSocket, socket);
    } catch (err) {
      socket.close(4404, (err as Error).message.slice(0, 120));
    }
  });
}
