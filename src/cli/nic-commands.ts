/**
 * `polyvisor vm nic list|add|set|rm`: a VM's NICs on virtual networks, changed
 * in place (hot-plugged when it runs; issue 18, docs/networks.md).
 */
import type { Command } from 'commander';
import { NetworkClient, type NicAddBody, type VmNicView } from '../client/index.js';
import { fail } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';
import { nicFromFlag } from './network-flag.js';

export function nicTable(nics: readonly VmNicView[]): string {
  return table(['NIC', 'NETWORK', 'MODEL', 'MAC', 'LINK', 'TAP', 'ADDRESSES'], nics.map((n) => [
    n.name, n.network ?? `(${n.type})`, n.model, n.mac, n.linkUp ? 'up' : 'down', n.tap ?? '-',
    n.addresses.map((a) => `${a.address} (${a.source})`).join(', ') || (n.reservedIp ? `${n.reservedIp} (reserved)` : '-'),
  ]));
}

/** The request `--network NAME[,model=M][,mac=MAC][,ip=IP]` (and --name) asks for. */
export function nicAddBody(flag: string, name: string | undefined): NicAddBody {
  const { name: _default, network, ...rest } = nicFromFlag(flag, 0);
  return { network: network!, ...rest, ...(name !== undefined ? { name } : {}) };
}

export function registerNicCommands(vm: Command, g: () => GlobalOptions, out: (s: string) => void): void {
  const client = (): NetworkClient => new NetworkClient(connectionFrom(g()));
  const json = (o: { json?: boolean }): boolean => Boolean(o.json || g().json);
  const nic = vm.command('nic').description('NICs of a VM on virtual networks: list, add, link up/down, remove (live when it runs)');

  nic.command('list <vm>')
    .description('the VM\'s NICs with their addresses (dnsmasq leases, the guest agent)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const nics = await client().vmNics(name);
      out(json(o) ? JSON.stringify(nics, null, 2) + '\n' : nicTable(nics));
    });

  nic.command('add <vm>')
    .description('add a NIC on a virtual network: hot-plugged when the VM runs (its tap first, then the device), else in the spec')
    .requiredOption('--network <spec>', 'NAME[,model=virtio|e1000|...][,mac=MAC][,ip=IP]')
    .option('--name <nic>', 'the NIC\'s name (default: the first free of net0, net1…)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { network: string; name?: string; json?: boolean }) => {
      const r = await client().addVmNic(name, nicAddBody(o.network, o.name));
      out(json(o) ? JSON.stringify(r, null, 2) + '\n' : `${name}: NIC ${r.nic.name} on ${r.nic.network ?? '-'} (${r.nic.mac}) ${r.live ? 'hot-plugged' : 'added to the spec'}\n`);
    });

  nic.command('set <vm> <nic>')
    .description('set the link state the guest sees (carrier up or down; live when the VM runs, kept in the spec)')
    .requiredOption('--link <state>', 'up or down')
    .option('--json', 'print JSON')
    .action(async (name: string, nicName: string, o: { link: string; json?: boolean }) => {
      if (o.link !== 'up' && o.link !== 'down') fail('INVALID_ARGUMENT', `--link ${JSON.stringify(o.link)} must be up or down`);
      const r = await client().setVmNicLink(name, nicName, o.link === 'up');
      out(json(o) ? JSON.stringify(r, null, 2) + '\n' : `${name}: NIC ${nicName} link ${o.link}${r.live ? '' : ' (in the spec; applies at the next start)'}\n`);
    });

  nic.command('rm <vm> <nic>')
    .description('remove a NIC: unplugged when the VM runs, then its tap, firewall rules and address go')
    .action(async (name: string, nicName: string) => {
      await client().removeVmNic(name, nicName);
      out(`${name}: NIC ${nicName} removed\n`);
    });
}
