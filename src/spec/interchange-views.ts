/** What `POST /v1/imports` and `POST /v1/vms/NAME/export-config` answer (docs/interchange.md). Types only. */

export interface MappingWarningView {
  /** Where in the source (or the spec, for an export) it came from. */
  source: string;
  message: string;
}

export interface FileImportView {
  format: string;
  /** The spec the VM gets (a dry run: would get; it may not validate yet, a warning says why). */
  spec: Record<string, unknown>;
  warnings: MappingWarningView[];
  disks: Array<{ name: string; file: string; format: string; found: boolean }>;
  dryRun: boolean;
  vm?: { name: string; state: string };
}

export interface ConfigExportView {
  format: string;
  out: string;
  files: Array<{ name: string; bytes: number; sha256: string }>;
  warnings: MappingWarningView[];
}
