/** Answers of the interchange routes: a file import (or its dry run) and a config export. */
import { z } from 'zod';
import type { ConfigExportView, FileImportView } from '../../spec/index.js';
import { describes } from './describes.js';

const warning = z.object({
  source: z.string().describe('where it came from: an element path, a config key, a script line, or a spec field'),
  message: z.string(),
}).meta({ id: 'MappingWarning' });

export const fileImportSchema = describes<FileImportView>()(z.object({
  format: z.string().describe('ovf, vmx, vbox, hyperv, libvirt, proxmox'),
  spec: z.record(z.string(), z.unknown()).describe('the spec the VM gets (dry run: would get)'),
  warnings: z.array(warning).describe('what did not map, or changed; with strict these refuse the import'),
  disks: z.array(z.object({ name: z.string(), file: z.string(), format: z.string(), found: z.boolean() })),
  dryRun: z.boolean(),
  vm: z.object({ name: z.string(), state: z.string() }).optional().describe('the VM created (not in a dry run)'),
}).meta({ id: 'FileImport', description: 'a VM read from another hypervisor\'s descriptor' }));

export const configExportSchema = describes<ConfigExportView>()(z.object({
  format: z.string(),
  out: z.string().describe('the folder written'),
  files: z.array(z.object({ name: z.string(), bytes: z.number(), sha256: z.string() })),
  warnings: z.array(warning).describe('what the target format cannot hold'),
}).meta({ id: 'ConfigExport', description: 'a VM written as another hypervisor\'s config and disks' }));

export const importUploadSchema = z.object({
  id: z.string(),
  file: z.string().describe('the file name given'),
  path: z.string().describe('where the daemon keeps it: give it as path to POST /v1/imports (dryRun first)'),
  bytes: z.number(),
  sha256: z.string(),
}).meta({ id: 'ImportUpload', description: 'a file uploaded for import; removed after the real import that reads it, or a day later' });
