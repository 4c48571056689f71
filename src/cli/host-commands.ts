/** `polyvisor host list|show|cordon|uncordon|drain`: the cluster's hosts (issue 19; docs/ha.md) and this host's inventory (issue 22). */
import type { Command } from 'commander';
import { HostClient, type DrainView, type HostView } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { inventoryText } from './host-show.js';

const pct = (used: number, cap: number): string => (cap > 0 ? `${Math.round((used / cap) * 100)}%` : '-');

export function hostTable(hosts: readonly HostView[]): string {
  return table(['HOST', 'STATE', 'VMS', 'CPU', 'MEMORY', 'DISK', 'POOL', 'LEASE AGE', 'VERSION'], hosts.map((h) => [
    `${h.name}${h.self ? ' *' : ''}`, h.state, String(h.vms),
    `${h.allocated.cpus}/${h.capacity.cpus}`,
    `${formatBytes(h.allocated.memoryBytes)}/${formatBytes(h.capacity.memoryBytes)} (${pct(h.allocated.memoryBytes, h.capacity.memoryBytes)})`,
    `${formatBytes(h.allocated.diskBytes)}/${formatBytes(h.capacity.diskBytes)}`,
    h.pool || '-', h.leaseAgeSeconds === null ? '-' : `${h.leaseAgeSeconds}s`, h.version,
  ]));
}

/** One line per VM of a drain: what it does, where to, how far. */
export function drainLines(d: DrainView): string {
  return d.vms.map((v) => `${v.vm}: ${v.action} -> ${v.to ?? '-'}: ${v.state}${v.error ? ` (${v.error})` : ''}\n`).join('');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerHostCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): HostClient => new HostClient(connectionFrom(g()));
  const host = program.command('host').description('the hosts of the cluster: state, capacity, cordons (docs/ha.md)');

  host.command('list')
    .description('every host with its state (ready, cordoned, draining, down), capacity and what its VMs claim; * marks the host that answered')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const hosts = await client().list();
      out(o.json || g().json ? JSON.stringify(hosts, null, 2) + '\n' : hostTable(hosts));
    });

  host.command('show')
    .description('this host (the daemon that answers): NUMA nodes with CPUs, memory and free hugepages, CPU model and flags, PCI devices with IOMMU groups and drivers, GPUs with mdev types (docs/topology.md)')
    .option('--json', 'print JSON (every CPU flag, every field)')
    .action(async (o: { json?: boolean }) => {
      const inv = await client().inventory();
      out(o.json || g().json ? JSON.stringify(inv, null, 2) + '\n' : inventoryText(inv));
    });

  for (const [verb, what] of [['cordon', 'no new VMs are placed on the host and HA restarts skip it; its VMs keep running'], ['uncordon', 'the host takes VMs again']] as const) {
    host.command(`${verb} <host>`)
      .description(what)
      .action(async (name: string) => {
        await (verb === 'cordon' ? client().cordon(name) : client().uncordon(name));
        out(`${name}: ${verb === 'cordon' ? 'cordoned' : 'uncordoned'}\n`);
      });
  }

  host.command('drain <host>')
    .description('cordon the host and move every VM it owns to hosts the scheduler picks: running ones live, stopped ones offline (or by owner change on shared storage); prints each VM\'s progress')
    .option('--no-wait', 'ask for the drain and return; follow it with host drain again or host list')
    .option('--json', 'print the drain\'s record as JSON when it ends')
    .action(async (name: string, o: { wait: boolean; json?: boolean }) => {
      const c = client();
      let d = await c.drain(name);
      const seen = new Map<string, string>();
      const show = (x: DrainView) => {
        if (o.json || g().json) return;
        for (const v of x.vms) {
          const line = drainLines({ ...x, vms: [v] });
          if (seen.get(v.vm) !== line) out(line);
          seen.set(v.vm, line);
        }
      };
      show(d);
      while (o.wait && d.state === 'draining') {
        await sleep(1000);
        d = await c.drainStatus(name);
        show(d);
      }
      if (o.json || g().json) out(JSON.stringify(d, null, 2) + '\n');
      else out(`${name}: ${d.state}\n`);
      if (d.state === 'failed') {
        const failed = d.vms.filter((v) => v.state === 'failed');
        throw new PolyvisorError('DRAIN_FAILED', `${failed.length} VM(s) could not leave ${name}: ${failed.map((v) => `${v.vm} (${v.error ?? '?'})`).join('; ')}; ${name} stays cordoned`);
      }
    });
}
