import { PolyvisorClient, type Endpoint } from '../client/index.js';
import { defaultStateDir, socketIn } from '../shared/index.js';

export interface GlobalOptions {
  socket?: string;
  url?: string;
  stateDir?: string;
  json?: boolean;
}

/** Where the daemon is: --url, --socket, --state-dir, their env vars, then the default state dir. */
export function endpointFrom(o: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const url = o.url ?? env['POLYVISOR_URL'];
  if (url) return { url };
  const socket = o.socket ?? env['POLYVISOR_SOCKET'];
  if (socket) return { socketPath: socket };
  return { socketPath: socketIn(o.stateDir ?? env['POLYVISOR_STATE_DIR'] ?? defaultStateDir()) };
}

export function clientFrom(o: GlobalOptions): PolyvisorClient {
  const token = process.env['POLYVISOR_TOKEN'];
  return new PolyvisorClient({ endpoint: endpointFrom(o), ...(token ? { token } : {}) });
}
