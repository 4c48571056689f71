/**
 * move.toLocal: the disks of a stopped domain as files on this host (libvirt
 * on the same machine: qemu-img reads them in place) and its XML mapped to a
 * spec by readDomainXml, with what does not map listed.
 */
import { createReadStream } from 'node:fs';
import { PolyvisorError } from '../../shared/index.js';
import type { ExportableDisk, ForeignExporter } from '../endpoint.js';
import { checkName, type LibvirtContext, type Located } from './context.js';
import { readDomainXml } from './domain-xml-read.js';

async function stopped(ctx: LibvirtContext, vm: string, signal: AbortSignal): Promise<Located> {
  const found = await ctx.describe(checkName('VM', vm), signal);
  if (found.vm.state !== 'stopped') throw new PolyvisorError('FOREIGN_VM_RUNNING', `${vm} is ${found.vm.state} on ${found.host.name}`);
  return found;
}

export function exporterPart(ctx: LibvirtContext): ForeignExporter {
  return {
    async disks(vm, signal) {
      const found = await stopped(ctx, vm, signal);
      const out: ExportableDisk[] = [];
      for (const d of found.facts.disks) {
        if (!d.location?.startsWith('/')) throw new PolyvisorError('ENDPOINT_TASK_FAILED', `${vm}'s disk ${d.name} is not a file (${d.location ?? 'no source'}); only file-backed disks can be copied out`);
        const info = await found.virsh.call(['domblkinfo', '--domain', vm, '--device', d.name], signal);
        const size = Number(/Capacity:\s*(\d+)/.exec(info)?.[1]);
        if (!Number.isFinite(size)) throw new PolyvisorError('ENDPOINT_PROTOCOL', `virsh domblkinfo printed no capacity for ${vm} ${d.name}`);
        const file = d.location;
        out.push({
          name: d.name,
          sizeBytes: size,
          format: d.format ?? 'raw',
          ...(found.host.local ? { localPath: file } : {}),
          open: async () => {
            if (!found.host.local) throw new PolyvisorError('ENDPOINT_TASK_FAILED', `${vm}'s disks are on ${found.host.name}, not on this machine`);
            return createReadStream(file);
          },
        });
      }
      return out;
    },

    async toSpec(vm, signal) {
      const found = await ctx.describe(checkName('VM', vm), signal);
      const xml = await found.virsh.call(['dumpxml', '--inactive', '--domain', vm], signal);
      const { spec, lossy } = readDomainXml(xml);
      return { spec, lossy };
    },
  };
}
