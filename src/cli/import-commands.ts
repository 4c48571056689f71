/**
 * `polyvisor import ENDPOINT/VM`: moving out of vSphere or libvirt. The VM's
 * config is mapped through the spec (what does not map is printed), its disks
 * are copied and converted to qcow2 with a progress bar, then it starts here.
 * `polyvisor import FILE` reads another hypervisor's descriptor instead
 * (interchange-commands.ts).
 */
import type { Command } from 'commander';
import { fail } from '../shared/index.js';
import type { ImportView } from '../spec/index.js';
import { platformFrom, type GlobalOptions } from './context.js';
import { endpointClientFrom } from './endpoint-commands.js';
import { followOperation } from './follow-operation.js';
import { foreignRef } from './vm-commands.js';
import { importFile, isImportFile } from './interchange-commands.js';

export function registerImportCommand(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  program.command('import <source>')
    .description('bring a VM of another hypervisor here: import ENDPOINT/VM (a stopped VM of an endpoint: disks copied and converted to qcow2, then it starts), or import FILE (an .ova, its manifest checked first; or an .ovf, .vmx, .vbox, libvirt/Hyper-V .xml, Proxmox .conf or Hyper-V .ps1 on the daemon\'s host, its disks beside it)')
    .option('--name <name>', 'the local VM\'s name (default: the source\'s)')
    .option('--shutdown', 'ENDPOINT/VM: shut a running source down first (else it is refused)')
    .option('--no-start', 'ENDPOINT/VM: leave the local VM stopped')
    .option('--pool <pool>', 'FILE: reserved (disks go to the VM\'s own folder)')
    .option('--strict', 'FILE: refuse the import when anything did not map')
    .option('--virtio', 'FILE: switch emulated NICs and disk controllers to virtio')
    .option('--dry-run', 'FILE: print the mapped spec and the warnings; create nothing')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (source: string, o: { name?: string; shutdown?: boolean; start: boolean; progress: boolean; json?: boolean; pool?: string; strict?: boolean; virtio?: boolean; dryRun?: boolean }) => {
      if (isImportFile(source)) return importFile(g(), source, o, out);
      const f = foreignRef(source);
      if (!f) fail('INVALID_ARGUMENT', `"${source}" is not ENDPOINT/VM (a VM of another hypervisor: \`polyvisor vm list\` shows them)`);
      const op = await endpointClientFrom(g()).importAsync(f.endpoint, f.vm, { ...(o.name ? { name: o.name } : {}), ...(o.shutdown ? { shutdown: true } : {}), start: o.start });
      const done = await followOperation(platformFrom(g()), op, { failCode: 'ENDPOINT_TASK_FAILED', ...(o.progress === false ? { progress: false } : {}), text: () => `importing ${source}` });
      const r = done.result as ImportView;
      if (o.json || g().json) return out(JSON.stringify(r, null, 2) + '\n');
      out(`${r.vm.name}: imported from ${r.source} (${r.vm.state}); disks ${r.disks.map((d) => `${d.name} (${d.fromFormat})`).join(', ')}\n${r.lossy.map((l) => `  not kept: ${l}\n`).join('')}`);
    });
}
