/**
 * `polyvisor import FILE` (a descriptor of another hypervisor on the daemon's
 * host: .ovf .vmx .vbox .xml .conf .ps1) and `polyvisor export VM --format F
 * --out DIR`. A FILE is told from ENDPOINT/VM by being a path that exists
 * here or having a known extension; relative paths are made absolute here
 * (the daemon reads the file, so it must see the same path).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InterchangeClient, type ConfigExportRequest } from '../client/index.js';
import { fail } from '../shared/index.js';
import type { ConfigExportView, FileImportView, MappingWarningView } from '../spec/index.js';
import { connectionFrom, platformFrom, type GlobalOptions } from './context.js';
import { followOperation } from './follow-operation.js';

const FILE_EXTENSIONS = /\.(ova|ovf|vmx|vbox|xml|conf|ps1|xva|xva\.gz)$/i;
export const EXPORT_FORMATS = ['ova', 'ovf', 'vmx', 'vbox', 'hyperv', 'libvirt', 'proxmox'] as const;

/** A source that names a descriptor file rather than ENDPOINT/VM. */
export function isImportFile(source: string): boolean {
  return FILE_EXTENSIONS.test(source) || source.startsWith('/') || source.startsWith('./') || existsSync(source);
}

export interface FileImportFlags { name?: string; pool?: string; strict?: boolean; virtio?: boolean; dryRun?: boolean; json?: boolean; progress?: boolean }

const warningLines = (ws: MappingWarningView[]): string => ws.map((w) => `  warning: ${w.source}: ${w.message}\n`).join('');

export async function importFile(g: GlobalOptions, source: string, o: FileImportFlags, out: (s: string) => void): Promise<void> {
  const client = new InterchangeClient(connectionFrom(g));
  const req = { path: path.resolve(source), ...(o.name ? { name: o.name } : {}), ...(o.pool ? { pool: o.pool } : {}), ...(o.strict ? { strict: true } : {}), ...(o.virtio ? { virtio: true } : {}) };
  let r: FileImportView;
  if (o.dryRun) r = await client.importDryRun(req);
  else {
    const op = await client.importAsync(req);
    const done = await followOperation(platformFrom(g), op, { failCode: 'INTERCHANGE_INVALID', ...(o.progress === false ? { progress: false } : {}), text: () => `importing ${path.basename(source)}` });
    r = done.result as FileImportView;
  }
  if (o.json || g.json) return out(JSON.stringify(r, null, 2) + '\n');
  const head = r.dryRun
    ? `${path.basename(source)} (${r.format}) would become:\n${JSON.stringify(r.spec, null, 2)}\n`
    : `${r.vm?.name ?? '?'}: imported from ${path.basename(source)} (${r.format}), ${r.vm?.state ?? ''}\n`;
  const disks = r.disks.map((d) => `  disk ${d.name}: ${d.file} (${d.format})${d.found ? '' : ' MISSING'}\n`).join('');
  out(head + disks + warningLines(r.warnings));
}

export function registerExportCommand(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  program.command('export <vm>')
    .description('write a stopped VM as another hypervisor\'s config and disks into a new folder on the daemon\'s host (with SHA256SUMS; what the format cannot hold is listed)')
    .requiredOption('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .requiredOption('--out <dir>', 'a new or empty folder (made absolute here; the daemon writes it)')
    .option('--decrypt', 'write encrypted disks in clear (refused without it)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (vm: string, o: { format: string; out: string; progress: boolean; json?: boolean; decrypt?: boolean }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) fail('INVALID_ARGUMENT', `--format ${o.format}: use one of ${EXPORT_FORMATS.join(', ')}`);
      const client = new InterchangeClient(connectionFrom(g()));
      const op = await client.exportAsync(vm, { format: o.format as ConfigExportRequest['format'], out: path.resolve(o.out), ...(o.decrypt ? { decrypt: true } : {}) });
      const done = await followOperation(platformFrom(g()), op, { failCode: 'INTERCHANGE_INVALID', ...(o.progress === false ? { progress: false } : {}), text: () => `exporting ${vm} as ${o.format}` });
      const r = done.result as ConfigExportView;
      if (o.json || g().json) return out(JSON.stringify(r, null, 2) + '\n');
      out(`${vm}: exported as ${r.format} to ${r.out}\n${r.files.map((f) => `  ${f.name} ${f.bytes} bytes sha256 ${f.sha256}\n`).join('')}${warningLines(r.warnings)}`);
    });
}
