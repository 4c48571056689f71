/**
 * The VM's VNC display over a WebSocket, for noVNC: binary frames carry the
 * RFB byte stream unchanged to and from QEMU's VNC unix socket (spec
 * `display: { vnc: true }`). Each WebSocket gets its own VNC connection (QEMU
 * serves several viewers); both directions are piped with backpressure.
 */
import net from 'node:net';
import { pipeline } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { VmService } from '../../lifecycle/index.js';
import type { Logger } from '../../shared/index.js';

export class VncSessions {
  private readonly live = new Set<net.Socket>();

  constructor(private readonly log: Logger) {}

  attach(vm: string, socketPath: string, ws: WebSocket): void {
    const upstream = net.createConnection(socketPath);
    this.live.add(upstream);
    const stream = createWebSocketStream(ws);
    const done = (err?: Error | null): void => {
      this.live.delete(upstream);
      if (err && err.name !== 'AbortError' && !/premature close/i.test(err.message)) this.log.debug({ vm, err: err.message }, 'vnc session ended');
      upstream.destroy();
      if (ws.readyState === ws.OPEN) ws.close(err ? 1011 : 1000, err ? 'VNC display unavailable' : 'VNC display closed');
    };
    pipeline(upstream, stream, (err) => done(err));
    pipeline(stream, upstream, (err) => done(err));
  }

  closeAll(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }
}

export function vncRoutes(app: FastifyInstance, service: VmService, sessions: VncSessions): void {
  app.get<{ Params: { name: string } }>('/v1/vms/:name/vnc', {
    websocket: true,
    config: { permission: 'vm:console', doc: { summary: 'VNC display (RFB) over a WebSocket for noVNC (binary frames both ways)', tags: ['vms'], response: { status: 101, description: 'WebSocket upgrade; closes 4409 without a VNC display or a running VM, 4404 when there is none' } } },
  }, async (socket, req) => {
    try {
      const rec = await service.get(req.params.name);
      if (!rec.spec.display.vnc) {
        socket.close(4409, `VM ${rec.name} has no VNC display; set display.vnc: true in its spec`);
        return;
      }
      if (rec.state !== 'running' && rec.state !== 'paused') {
        socket.close(4409, `VM ${rec.name} is ${rec.state}; start it first`);
        return;
      }
      sessions.attach(rec.name, service.files(rec).vncSocket, socket);
    } catch (err) {
      socket.close(4404, (err as Error).message.slice(0, 120));
    }
  });
}
