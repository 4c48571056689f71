/**
 * `polyvisor vm resize NAME [--cpus N] [--memory SIZE] [--balloon SIZE]`
 * (issue 22): vCPUs, memory and the balloon target; hot-plugged when the VM
 * runs, the spec alone when it is stopped (docs/topology.md, "Hotplug").
 */
import type { Command } from 'commander';
import { PolyvisorClient } from '../client/index.js';
import type { ResizeView } from '../spec/index.js';
import { fail } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';

const UNIT_MIB: Record<string, number> = { '': 1, M: 1, Mi: 1, MiB: 1, G: 1024, Gi: 1024, GiB: 1024 };

/** "512", "512Mi", "2Gi" → MiB (a bare number means MiB, as in the spec's memory). */
export function sizeMiB(flag: string, text: string): number {
  const m = /^(\d{1,7})(Mi|MiB|M|Gi|GiB|G)?$/.exec(text.trim());
  if (!m) fail('INVALID_ARGUMENT', `${flag} ${JSON.stringify(text)} must be a size like 512Mi, 2Gi or a number of MiB`);
  return Number(m[1]) * UNIT_MIB[m[2] ?? '']!;
}

export function resizeText(r: ResizeView): string {
  const balloon = r.balloonMiB === null ? '' : `, balloon leaves the guest ${r.balloonMiB} MiB`;
  const how = r.changed.length === 0 ? 'unchanged' : r.live ? `changed live (${r.changed.join(', ')})` : `spec changed (${r.changed.join(', ')}; applies at the next start)`;
  return `${r.vm}: ${how}: ${r.cpus}/${r.maxCpus} vCPUs, ${r.memoryMiB}/${r.maxMemoryMiB} MiB memory${balloon}\n`;
}

export function registerResizeCommand(vm: Command, g: () => GlobalOptions, out: (s: string) => void): void {
  vm.command('resize <name>')
    .description('change vCPUs, memory or the balloon target: hot-plugged when the VM runs (up to cpu.max / memory.max), the spec alone when it is stopped')
    .option('--cpus <n>', 'vCPUs (hot-added ones can be taken out again if the guest lets go)')
    .option('--memory <size>', 'memory, e.g. 512Mi or 1Gi (a number means MiB); a running VM grows in 128 MiB blocks and does not shrink')
    .option('--balloon <size>', 'balloon target of a running VM: what its guest may keep, e.g. 256Mi')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { cpus?: string; memory?: string; balloon?: string; json?: boolean }) => {
      if (o.cpus !== undefined && !/^\d{1,3}$/.test(o.cpus)) fail('INVALID_ARGUMENT', `--cpus ${JSON.stringify(o.cpus)} must be a whole number`);
      const r = await new PolyvisorClient(connectionFrom(g())).resizeVm(name, {
        ...(o.cpus !== undefined ? { cpus: Number(o.cpus) } : {}),
        ...(o.memory !== undefined ? { memoryMiB: sizeMiB('--memory', o.memory) } : {}),
        ...(o.balloon !== undefined ? { balloonMiB: sizeMiB('--balloon', o.balloon) } : {}),
      });
      out(o.json || g().json ? JSON.stringify(r, null, 2) + '\n' : resizeText(r));
    });
}
