/** Typed client of the operations endpoints: doctor and the Prometheus text of /metrics. */
import { decode, request, type Endpoint } from './transport.js';

export interface DoctorFindingView {
  check: string;
  severity: 'ok' | 'info' | 'warning' | 'critical';
  subject: string | null;
  message: string;
  fix: { command: string; argv: string[] } | null;
}

export interface DoctorReportView {
  host: string;
  checkedAt: string;
  status: DoctorFindingView['severity'];
  findings: DoctorFindingView[];
}

export class OpsClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(path: string, timeoutMs: number): Promise<T> {
    return decode<T>(await request(this.o.endpoint, 'GET', path, undefined, { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? timeoutMs }));
  }

  doctor(): Promise<DoctorReportView> {
    return this.call('/v1/doctor', 90_000);
  }

  /** The raw Prometheus exposition of /metrics. */
  metricsText(): Promise<string> {
    return this.call('/metrics', 30_000);
  }
}
