/** Typed client of foreign VM formats: POST /v1/import/upload (a file sent to the daemon), POST /v1/imports (a descriptor on the daemon's host) and POST /v1/vms/{name}/export-config. */
import type { FileImportView, OperationView } from '../spec/index.js';
import { decode, request, type Endpoint } from './transport.js';

export interface FileImportRequest {
  /** Absolute path of the descriptor on the daemon's host. */
  path: string;
  name?: string;
  pool?: string;
  strict?: boolean;
  virtio?: boolean;
  dryRun?: boolean;
}

export interface ConfigExportRequest {
  format: 'ova' | 'ovf' | 'vmx' | 'vbox' | 'hyperv' | 'libvirt' | 'proxmox';
  /** Absolute path of a new or empty folder on the daemon's host. */
  out: string;
  /** Write encrypted disks in clear (refused without it). */
  decrypt?: boolean;
}

/** A file uploaded for import (POST /v1/import/upload). */
export interface ImportUploadView {
  id: string;
  file: string;
  /** Give it as `path` to importDryRun / importAsync. */
  path: string;
  bytes: number;
  sha256: string;
}

const enc = encodeURIComponent;

export class InterchangeClient {
  constructor(private readonly o: { endpoint: Endpoint; token?: string; timeoutMs?: number }) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const opts = { ...(this.o.token ? { token: this.o.token } : {}), timeoutMs: this.o.timeoutMs ?? 30 * 60_000 };
    return decode<T>(await request(this.o.endpoint, method, path, body, opts));
  }

  /** Sends a file (an .ova, .xva or a descriptor) to the daemon; import it with the path answered. */
  upload(filename: string, data: Buffer): Promise<ImportUploadView> { return this.call('POST', `/v1/import/upload?filename=${enc(filename)}`, data); }
  /** The mapping only (spec and warnings); nothing is created. */
  importDryRun(req: Omit<FileImportRequest, 'dryRun'>): Promise<FileImportView> { return this.call('POST', '/v1/imports', { ...req, dryRun: true }); }
  /** A real import as an operation (progress while disks convert); its result is a FileImportView. */
  importAsync(req: Omit<FileImportRequest, 'dryRun'>): Promise<OperationView> { return this.call('POST', '/v1/imports?async=true', req); }
  /** A config export as an operation; its result is a ConfigExportView. */
  exportAsync(vm: string, req: ConfigExportRequest): Promise<OperationView> { return this.call('POST', `/v1/vms/${enc(vm)}/export-config?async=true`, req); }
}
