/**
 * The Proxmox VE driver: its REST API (/api2/json) over HTTPS, by API token
 * or by ticket, tasks followed by UPID. connect() checks the URL and the
 * credentials and proves them with GET /version.
 */
import type { EndpointConnection, EndpointDriver, EndpointSession } from '../endpoint.js';
import { PROXMOX_CAPABILITIES, PROXMOX_DRIVER_NAME } from './capabilities.js';
import { PveClient } from './client.js';
import { createSession } from './session.js';

export interface ProxmoxDriverOptions {
  /** One HTTP request without an answer for this long: ENDPOINT_LOST (default 30 s). */
  requestTimeoutMs?: number;
  /** A task followed longer than this: TIMEOUT (default 1 h: clones and migrations of large disks take long). */
  taskTimeoutMs?: number;
  /** First poll of a task's status; the interval grows to 1 s (default 100 ms). */
  pollMs?: number;
  /** A ticket older than this is renewed before the next call (default 1 h; Proxmox tickets last 2 h). */
  renewAfterMs?: number;
  /** VM configs read at once when listing (default 8). */
  listConcurrency?: number;
}

export function createProxmoxDriver(o: ProxmoxDriverOptions = {}): EndpointDriver {
  return {
    name: PROXMOX_DRIVER_NAME,
    title: 'Proxmox VE over its REST API (/api2/json, HTTPS): API token or ticket, tasks followed by UPID',
    urlExample: 'https://pve.example.com:8006',
    capabilities: PROXMOX_CAPABILITIES,
    async connect(c: EndpointConnection, signal: AbortSignal): Promise<EndpointSession> {
      const client = new PveClient(c, { requestTimeoutMs: o.requestTimeoutMs ?? 30_000, renewAfterMs: o.renewAfterMs ?? 3600_000 });
      try {
        await client.ensureTicket(signal);
        await client.get('/version', {}, signal);
      } catch (err) {
        client.close();
        throw err;
      }
      return createSession(client, { taskTimeoutMs: o.taskTimeoutMs ?? 3600_000, pollMs: o.pollMs ?? 100, listConcurrency: o.listConcurrency ?? 8 });
    },
  };
}
