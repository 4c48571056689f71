/**
 * CPU count and memory of a stopped VM, in its persistent config: the
 * inactive XML with <vcpu>, its CPU <topology> (kept consistent: libvirt
 * refuses a count the topology does not multiply to), <memory> and
 * <currentMemory> rewritten, then defined again (what `virsh edit` does).
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignReconfigure } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';

/** The XML with `cpus` vCPUs: the topology keeps its threads and cores per socket when they divide the count, else becomes 1 socket × cpus cores. */
export function withCpus(xml: string, cpus: number): string {
  let out = xml.replace(/<vcpu([^>]*)>\d+<\/vcpu>/, (_a, attrs: string) => `<vcpu${attrs.replace(/\s+current='\d+'/, '')}>${cpus}</vcpu>`);
  out = out.replace(/<topology([^>]*)\/>/, (_a, attrs: string) => {
    const get = (k: string): number => Number(new RegExp(`${k}='(\\d+)'`).exec(attrs)?.[1] ?? 1);
    const dies = get('dies');
    const per = get('cores') * get('threads') * dies;
    const [sockets, cores, threads] = cpus % per === 0 ? [cpus / per, get('cores'), get('threads')] : [1, cpus / dies, 1];
    if (!Number.isInteger(cores)) return `<topology sockets='1'${attrs.includes('dies=') ? " dies='1'" : ''} cores='${cpus}' threads='1'/>`;
    return `<topology sockets='${sockets}'${attrs.includes('dies=') ? ` dies='${dies}'` : ''} cores='${cores}' threads='${threads}'/>`;
  });
  return out;
}

export function withMemory(xml: string, kib: number): string {
  return xml
    .replace(/<memory unit='[^']*'>\d+<\/memory>/, `<memory unit='KiB'>${kib}</memory>`)
    .replace(/<currentMemory unit='[^']*'>\d+<\/currentMemory>/, `<currentMemory unit='KiB'>${kib}</currentMemory>`);
}

export function reconfigurePart(ctx: LibvirtContext): ForeignReconfigure {
  return {
    async setCpuMemory(vm, change, signal) {
      const found = await ctx.describe(checkName('VM', vm), signal);
      if (found.vm.state !== 'stopped') throw new PolyvisorError('INVALID_TRANSITION', `${vm} is ${found.vm.state}: CPU and memory change while it is stopped`);
      if (change.cpus !== undefined && (!Number.isInteger(change.cpus) || change.cpus < 1 || change.cpus > 4096)) {
        throw new PolyvisorError('INVALID_ARGUMENT', `cpus must be a whole number from 1 to 4096, not ${change.cpus}`);
      }
      if (change.memoryBytes !== undefined && (!Number.isInteger(change.memoryBytes) || change.memoryBytes < 16 * 1024 * 1024)) {
        throw new PolyvisorError('INVALID_ARGUMENT', `memory must be at least 16 MiB, not ${change.memoryBytes} bytes`);
      }
      let xml = await found.virsh.call(['dumpxml', '--inactive', '--security-info', '--domain', vm], signal);
      if (change.cpus !== undefined) xml = withCpus(xml, change.cpus);
      if (change.memoryBytes !== undefined) xml = withMemory(xml, Math.ceil(change.memoryBytes / 1024));
      await found.virsh.withXml(xml, (file) => ['define', '--file', file], signal);
    },
  };
}
