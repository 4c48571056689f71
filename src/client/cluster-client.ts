/** Typed client of the cluster routes (/v1/cluster, issue 19; docs/cluster.md). */
import type { ClusterJoinGrantView, ClusterLeaveView, ClusterSetupView, ClusterStatusView, JoinTokenCreatedView, OperationView, RebalanceView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export class ClusterClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return decode<T>(await request(this.o.endpoint, method, path, body, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 60_000 }));
  }

  status(): Promise<ClusterStatusView> { return this.call('GET', '/v1/cluster'); }
  init(endpoints: string[], prefix?: string): Promise<ClusterSetupView> { return this.call('POST', '/v1/cluster/init', { endpoints, ...(prefix ? { prefix } : {}) }); }
  join(address: string, token: string, fingerprint?: string): Promise<ClusterSetupView> { return this.call('POST', '/v1/cluster/join', { address, token, ...(fingerprint ? { fingerprint } : {}) }); }
  createToken(ttlSeconds?: number): Promise<JoinTokenCreatedView> { return this.call('POST', '/v1/cluster/tokens', ttlSeconds === undefined ? {} : { ttlSeconds }); }
  /** A member's side of a join (no API token: the join token is the credential). */
  admit(token: string, host: string): Promise<ClusterJoinGrantView> { return this.call('POST', '/v1/cluster/members', { token, host }); }
  leave(force = false): Promise<ClusterLeaveView> { return this.call('POST', '/v1/cluster/leave', force ? { force } : {}); }
  /** The rebalance plan, nothing moved. */
  rebalancePlan(o: { threshold?: number } = {}): Promise<RebalanceView> { return this.call('POST', '/v1/cluster/rebalance', { dryRun: true, ...o }); }
  /** Starts the rebalance's moves as an operation (its result is a RebalanceView). */
  rebalance(o: { threshold?: number; concurrency?: number } = {}): Promise<OperationView> { return this.call('POST', '/v1/cluster/rebalance', o); }
}
