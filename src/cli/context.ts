import { PlatformClient, PolyvisorClient, type Endpoint } from '../client/index.js';
import { defaultStateDir, socketIn } from '../shared/index.js';
import { LOCAL_REMOTE, getRemote, readRemotes, remoteEndpoint } from './remotes.js';

export interface GlobalOptions {
  socket?: string;
  url?: string;
  stateDir?: string;
  remote?: string;
  json?: boolean;
}

export interface Connection {
  endpoint: Endpoint;
  token?: string;
}

/**
 * Where the daemon is and which token to send: --url, --socket, --remote
 * (and their env vars), --state-dir, then the default remote, then the
 * default state dir's socket. POLYVISOR_TOKEN overrides a remote's token.
 */
export function connectionFrom(o: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const envToken = env['POLYVISOR_TOKEN'];
  const withToken = (endpoint: Endpoint, token?: string): Connection => {
    const t = envToken || token;
    return t ? { endpoint, token: t } : { endpoint };
  };
  const url = o.url ?? env['POLYVISOR_URL'];
  const pin = env['POLYVISOR_CERT_FINGERPRINT'];
  if (url) return withToken(pin ? { url, fingerprint: pin } : { url });
  const socket = o.socket ?? env['POLYVISOR_SOCKET'];
  if (socket) return withToken({ socketPath: socket });
  const local = (): Connection => withToken({ socketPath: socketIn(o.stateDir ?? env['POLYVISOR_STATE_DIR'] ?? defaultStateDir()) });
  const named = o.remote ?? env['POLYVISOR_REMOTE'];
  if (named !== undefined && named !== LOCAL_REMOTE) {
    const r = getRemote(readRemotes(env), named);
    return withToken(remoteEndpoint(r), r.token);
  }
  if (named === LOCAL_REMOTE || o.stateDir !== undefined || env['POLYVISOR_STATE_DIR'] !== undefined) return local();
  const doc = readRemotes(env);
  if (doc.default && doc.default !== LOCAL_REMOTE) {
    const r = getRemote(doc, doc.default);
    return withToken(remoteEndpoint(r), r.token);
  }
  return local();
}

export function endpointFrom(o: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Endpoint {
  return connectionFrom(o, env).endpoint;
}

/** The token to send (POLYVISOR_TOKEN, else the chosen remote's), if any. */
export function tokenFrom(o: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return connectionFrom(o, env).token;
}

export function clientFrom(o: GlobalOptions): PolyvisorClient {
  return new PolyvisorClient(connectionFrom(o));
}

export function platformFrom(o: GlobalOptions): PlatformClient {
  return new PlatformClient(connectionFrom(o));
}
