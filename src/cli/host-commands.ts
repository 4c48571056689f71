/** `polyvisor host list|cordon|uncordon`: the cluster's hosts (issue 19; docs/ha.md). */
import type { Command } from 'commander';
import { HostClient, type HostView } from '../client/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';

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

  for (const [verb, what] of [['cordon', 'no new VMs are placed on the host and HA restarts skip it; its VMs keep running'], ['uncordon', 'the host takes VMs again']] as const) {
    host.command(`${verb} <host>`)
      .description(what)
      .action(async (name: string) => {
        await (verb === 'cordon' ? client().cordon(name) : client().uncordon(name));
        out(`${name}: ${verb === 'cordon' ? 'cordoned' : 'uncordoned'}\n`);
      });
  }
}
