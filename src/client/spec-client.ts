/** Typed client of the spec dry run (POST /v1/specs/validate): what a create would say, without creating. */
import type { SpecCheckView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export interface SpecClientOptions {
  endpoint: Endpoint;
  token?: string;
  timeoutMs?: number;
}

export class SpecClient {
  constructor(private readonly o: SpecClientOptions) {}

  /** The problems `POST /v1/vms` would answer for this spec (same codes and messages), and the spec with its defaults. */
  async validate(spec: unknown): Promise<SpecCheckView> {
    const t = this.o.timeoutMs;
    return decode<SpecCheckView>(await request(this.o.endpoint, 'POST', '/v1/specs/validate', { spec }, { ...(this.o.token ? { token: this.o.token } : {}), ...(t ? { timeoutMs: t } : {}) }));
  }
}
