/** Typed client of the API platform: tokens, operations, the event stream and the audit log. */
import http from 'node:http';
import type { AuditView, EventView, OperationView, Role, SecretRotationView, SecretView, TokenCreatedView, TokenView, VmView } from '../spec/index.js';
import { PolyvisorError } from '../shared/index.js';
import { decode, request, requestTarget, type Endpoint } from './transport.js';
import type { VmActionName } from './client.js';

export interface PlatformClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(params)) if (v !== undefined) pairs.push([k, String(v)]);
  const s = new URLSearchParams(pairs).toString();
  return s ? `?${s}` : '';
};

export class PlatformClient {
  constructor(private readonly o: PlatformClientOptions) {}

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const t = timeoutMs ?? this.o.timeoutMs;
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }

  /** `expiresAt`: an ISO time after which the token stops working; absent: never. */
  createToken(name: string, role: Role, expiresAt?: string): Promise<TokenCreatedView> {
    return this.call('POST', '/v1/tokens', { name, role, ...(expiresAt !== undefined ? { expiresAt } : {}) });
  }

  listTokens(): Promise<TokenView[]> {
    return this.call('GET', '/v1/tokens');
  }

  revokeToken(name: string): Promise<void> {
    return this.call('DELETE', `/v1/tokens/${encodeURIComponent(name)}`);
  }

  /** Names and times of the secrets store (admin); never values. */
  listSecrets(): Promise<SecretView[]> {
    return this.call('GET', '/v1/secrets');
  }

  /** Stores (or replaces) a secret; the value travels in the body only. */
  setSecret(name: string, value: string): Promise<SecretView> {
    return this.call('PUT', `/v1/secrets/${encodeURIComponent(name)}`, { value });
  }

  removeSecret(name: string): Promise<void> {
    return this.call('DELETE', `/v1/secrets/${encodeURIComponent(name)}`);
  }

  /** Re-encrypts every secret under a new key, all or nothing. */
  rotateSecretKey(): Promise<SecretRotationView> {
    return this.call('POST', '/v1/secrets/rotate-key');
  }

  /** Starts a VM action as an operation and returns at once (202). */
  startAction(vm: string, action: VmActionName, body: Record<string, unknown> = {}): Promise<OperationView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(vm)}/${action}?async=true`, body);
  }

  listOperations(filter: { vm?: string; status?: string } = {}): Promise<OperationView[]> {
    return this.call('GET', `/v1/operations${q(filter)}`);
  }

  getOperation(id: string): Promise<OperationView> {
    return this.call('GET', `/v1/operations/${encodeURIComponent(id)}`);
  }

  waitOperation(id: string, timeoutSeconds = 60): Promise<OperationView> {
    return this.call('POST', `/v1/operations/${encodeURIComponent(id)}/wait${q({ timeout: timeoutSeconds })}`, undefined, (timeoutSeconds + 30) * 1000);
  }

  cancelOperation(id: string): Promise<OperationView> {
    return this.call('DELETE', `/v1/operations/${encodeURIComponent(id)}`);
  }

  audit(filter: { actor?: string; resource?: string; before?: number; since?: string; limit?: number } = {}): Promise<AuditView[]> {
    return this.call('GET', `/v1/audit${q(filter)}`);
  }

  /** The VM an operation returned once it succeeded. */
  static vmOf(op: OperationView): VmView | undefined {
    return op.status === 'succeeded' ? (op.result as VmView) : undefined;
  }

  /**
   * Follows GET /v1/events (Server-Sent Events), calling `onEvent` for each,
   * until `signal` aborts (resolves) or the daemon ends the stream (resolves).
   */
  followEvents(onEvent: (e: EventView) => void, opts: { vm?: string; signal?: AbortSignal; onOpen?: () => void } = {}): Promise<void> {
    const path = `/v1/events${q({ vm: opts.vm })}`;
    const ep = this.o.endpoint;
    const target = requestTarget(ep, path);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.o.token) headers['authorization'] = `Bearer ${this.o.token}`;
    return new Promise((resolve, reject) => {
      const req = http.request({ ...target, method: 'GET', headers }, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            try {
              decode({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: text });
            } catch (err) {
              return reject(err);
            }
            reject(new PolyvisorError('INTERNAL', `the event stream answered HTTP ${res.statusCode}`));
          });
          return;
        }
        opts.onOpen?.();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (data) onEvent(JSON.parse(data) as EventView);
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      const onAbort = (): void => {
        req.destroy();
        resolve();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (opts.signal?.aborted) return resolve();
        if (err instanceof PolyvisorError) return reject(err);
        reject(['ENOENT', 'ECONNREFUSED'].includes(err.code ?? '') ? new PolyvisorError('DAEMON_UNREACHABLE', `cannot reach polyvisord (${err.code})`, { cause: err }) : err);
      });
      req.end();
    });
  }
}
