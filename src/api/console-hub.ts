/**
 * Serial console proxy: QEMU's serial chardev accepts one client, so the
 * daemon holds one upstream connection per VM and fans it out to every
 * WebSocket attached; the upstream closes when the last client leaves.
 */
import net from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../shared/index.js';
import { isControlFrame, parseControl } from './console-control.js';

interface Hub {
  upstream: net.Socket;
  clients: Set<WebSocket>;
}

export class ConsoleHub {
  private readonly hubs = new Map<string, Hub>();
  private readonly sizes = new Map<string, { cols: number; rows: number }>();

  constructor(private readonly log: Logger) {}

  attach(vm: string, socketPath: string, ws: WebSocket): void {
    let hub = this.hubs.get(vm);
    if (!hub) {
      const upstream = net.createConnection(socketPath);
      hub = { upstream, clients: new Set() };
      const h = hub;
      this.hubs.set(vm, h);
      upstream.on('data', (chunk) => {
        for (const c of h.clients) if (c.readyState === c.OPEN) c.send(chunk, { binary: true });
      });
      const end = (why: string): void => {
        if (this.hubs.get(vm) === h) this.hubs.delete(vm);
        for (const c of h.clients) c.close(1011, why.slice(0, 120));
        h.clients.clear();
      };
      upstream.on('error', (err) => {
        this.log.warn({ vm, err: err.message }, 'console upstream error');
        end('console unavailable');
      });
      upstream.on('close', () => end('console closed (VM stopped?)'));
    }
    hub.clients.add(ws);
    const h = hub;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isControlFrame(isBinary, buf)) return this.control(vm, ws, buf);
      if (!h.upstream.destroyed) h.upstream.write(buf);
    });
    ws.on('close', () => {
      h.clients.delete(ws);
      if (h.clients.size === 0) {
        this.sizes.delete(vm);
        h.upstream.end();
        if (this.hubs.get(vm) === h) this.hubs.delete(vm);
      }
    });
  }

  /** The terminal size the last client reported for this VM's console (recorded, not sent to the guest). */
  sizeOf(vm: string): { cols: number; rows: number } | undefined {
    return this.sizes.get(vm);
  }

  /** A bad control frame is answered with an error frame; the session stays open. */
  private control(vm: string, ws: WebSocket, buf: Buffer): void {
    const r = parseControl(buf);
    if (!r.ok) {
      ws.send(JSON.stringify({ type: 'error', code: 'INVALID_ARGUMENT', message: r.message }));
      return;
    }
    const { cols, rows } = r.control;
    this.sizes.set(vm, { cols, rows });
    this.log.debug({ vm, cols, rows }, 'console resized');
    ws.send(JSON.stringify({ type: 'resized', cols, rows, forwarded: false }));
  }

  closeAll(): void {
    for (const h of this.hubs.values()) h.upstream.destroy();
    this.hubs.clear();
  }
}
