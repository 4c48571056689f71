/**
 * move.toLocal. WinRM carries no files, so the disks come the way Hyper-V
 * exports a VM: ExportSystemDefinition (CopyVmStorage) into a folder the
 * host can write and this host can read (an SMB share mounted here: the
 * endpoint URL's exportDir as the host names it, exportLocal as this host
 * does), its job followed; each exported VHDX is then streamed to the import
 * and deleted once read. A failed or cut-off export removes what it wrote;
 * exports left behind by an import that died are swept after an hour.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, PolyvisorError } from '../../shared/index.js';
import type { ExportableDisk, ForeignExporter } from '../endpoint.js';
import { embedded, num, str } from './cim.js';
import { vmRef, type HvContext } from './context.js';
import { disksOf, stateOf } from './map.js';
import { vmToSpec } from './to-spec.js';

const PREFIX = 'polyvisor-export-';
const STALE_MS = 3600_000;

/** The remote folder joined with a child, in the host's own separators (a Windows path or a UNC share). */
const remoteJoin = (dir: string, child: string): string => (dir.includes('\\') ? `${dir.replace(/\\+$/, '')}\\${child}` : path.posix.join(dir, child));

async function sweep(local: string): Promise<void> {
  const names = await readdir(local).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(PREFIX)) continue;
    const p = path.join(local, n);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await rm(p, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function exporterPart(x: HvContext): ForeignExporter {
  return {
    async disks(vm, signal): Promise<ExportableDisk[]> {
      const { remote, local } = x.exportDirs;
      if (!remote || !local) {
        fail('INVALID_ARGUMENT', `Hyper-V endpoint ${x.endpoint} has no export folder: WinRM carries no files, so Hyper-V exports the VM into a share this host mounts`, {
          hint: 'Give the endpoint URL exportDir=\\\\HOST\\SHARE (as the Hyper-V host writes it) and exportLocal=/mnt/SHARE (where it is mounted here), e.g. https://hv1:5986/wsman?exportDir=%5C%5Cpv%5Cimport&exportLocal=/srv/import',
        });
      }
      const { found, facts } = await x.factsOf(vm, signal);
      const state = stateOf(num(found.system, 'EnabledState'));
      if (state !== 'stopped') throw new PolyvisorError('FOREIGN_VM_RUNNING', `VM ${vm} is ${state}: its disks are copied only while it is off`);
      await sweep(local);
      const sub = `${PREFIX}${randomUUID()}`;
      const localDir = path.join(local, sub);
      const settings = embedded('Msvm_VirtualSystemExportSettingData', {
        CopySnapshotConfiguration: { type: 'uint8', value: '1' },
        CopyVmRuntimeInformation: { type: 'boolean', value: 'false' },
        CopyVmStorage: { type: 'boolean', value: 'true' },
        CreateVmExportSubdirectory: { type: 'boolean', value: 'true' },
      });
      try {
        await x.run(found.host, await found.host.service('Msvm_VirtualSystemManagementService', signal), 'ExportSystemDefinition',
          { ComputerSystem: vmRef(found.guid), ExportDirectory: remoteJoin(remote, sub), ExportSettingData: settings }, `export ${vm}`, signal);
        const vhdDir = path.join(localDir, str(found.system, 'ElementName') ?? vm, 'Virtual Hard Disks');
        const files = await readdir(vhdDir).catch(() => [] as string[]);
        const out: ExportableDisk[] = [];
        let left = 0;
        for (const d of disksOf(facts)) {
          const base = (d.location ?? '').split(/[\\/]/).pop() ?? '';
          const file = files.find((f) => f.toLowerCase() === base.toLowerCase());
          if (!file) throw new PolyvisorError('ENDPOINT_PROTOCOL', `the export of ${vm} has no ${base} in ${vhdDir} (is exportLocal the same folder as exportDir?)`);
          const full = path.join(vhdDir, file);
          const size = (await stat(full)).size;
          left++;
          out.push({
            name: d.name, sizeBytes: size, format: d.format ?? 'vhdx',
            open: async () => {
              const stream = createReadStream(full);
              stream.on('close', () => {
                void rm(full, { force: true }).then(async () => {
                  if (--left === 0) await rm(localDir, { recursive: true, force: true });
                });
              });
              return stream;
            },
          });
        }
        return out;
      } catch (err) {
        await rm(localDir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
    },
    async toSpec(vm, signal) {
      const { facts } = await x.factsOf(vm, signal);
      return vmToSpec(facts);
    },
  };
}
