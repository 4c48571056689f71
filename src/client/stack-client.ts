/** Typed client of the declarative stack routes (/v1/stacks, issue 21). */
import type {
  OperationView, StackDriftView, StackGraphView, StackPlanView, StackRequest, StackStatusView, StackSummaryView,
} from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

const enc = encodeURIComponent;

export class StackClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 120_000 }));
  }

  list(): Promise<StackSummaryView[]> { return this.call('GET', '/v1/stacks'); }
  plan(r: StackRequest): Promise<StackPlanView> { return this.call('POST', '/v1/stacks/plan', r); }
  graph(r: StackRequest): Promise<StackGraphView> { return this.call('POST', '/v1/stacks/graph', r); }
  /** Starts the apply; follow the operation (its detail is the step report). */
  apply(r: StackRequest): Promise<OperationView> { return this.call('POST', '/v1/stacks/apply', r); }
  status(name: string): Promise<StackStatusView> { return this.call('GET', `/v1/stacks/${enc(name)}`); }
  drift(name: string): Promise<StackDriftView> { return this.call('GET', `/v1/stacks/${enc(name)}/drift`); }
  down(name: string): Promise<OperationView> { return this.call('POST', `/v1/stacks/${enc(name)}/down`, {}); }
  destroy(name: string): Promise<OperationView> { return this.call('DELETE', `/v1/stacks/${enc(name)}`); }
}
