/**
 * `polyvisor endpoint add|list|show|test|rm` (other hypervisors: libvirt,
 * vSphere, Proxmox VE) and `polyvisor driver list` (the capability matrix).
 * Passwords and tokens come from files or standard input, never from argv.
 */
import type { Command } from 'commander';
import { EndpointClient } from '../client/index.js';
import { fail, isErrorCode, PolyvisorError } from '../shared/index.js';
import type { DriverView, EndpointView, ForeignVmView, InventoryVmView } from '../spec/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { readSecretFile, readSecretFromStdin } from './secret-input.js';
import { readFile } from 'node:fs/promises';

export function endpointClientFrom(o: GlobalOptions): EndpointClient {
  return new EndpointClient(connectionFrom(o));
}

function statusText(e: EndpointView): string {
  const s = e.status;
  if (!s) return 'not checked';
  if (!s.reachable) return `${s.error?.code ?? 'unreachable'}`;
  return `ok (${s.vms ?? '?'} VMs)`;
}

export function endpointDetails(e: EndpointView): string {
  const s = e.status;
  const lines = [
    `name:     ${e.name}`,
    `driver:   ${e.driver}`,
    `url:      ${e.url}`,
    `user:     ${e.user ?? '-'}`,
    `auth:     ${e.auth}`,
    `tls:      ${e.tls}`,
    `status:   ${statusText(e)}`,
  ];
  if (s?.product) lines.push(`product:  ${s.product}`);
  if (s?.hosts.length) lines.push(`hosts:    ${s.hosts.join(', ')}`);
  if (s?.error) lines.push(`error:    ${s.error.code}: ${s.error.message}`);
  if (s) lines.push(`checked:  ${s.checkedAt}`);
  return lines.join('\n') + '\n';
}

export function inventoryTable(rows: InventoryVmView[]): string {
  return table(['ENDPOINT', 'NAME', 'STATE', 'VCPUS', 'MEMORY', 'HOST', 'DRIVER'], rows.map((r) => [r.endpoint, r.ref, r.state, String(r.cpus), formatBytes(r.memoryBytes), r.host ?? '-', r.driver]));
}

export function foreignVmDetails(v: ForeignVmView): string {
  return [
    `name:     ${v.ref}`,
    `driver:   ${v.driver}`,
    `state:    ${v.state}`,
    `vcpus:    ${v.cpus}`,
    `memory:   ${formatBytes(v.memoryBytes)}`,
    `host:     ${v.host ?? '-'}`,
    `guest OS: ${v.guestOs ?? '-'}`,
    `firmware: ${v.firmware ?? '-'}`,
    `id:       ${v.id}`,
    ...v.disks.map((d) => `disk:     ${d.name} ${d.sizeBytes === null ? '' : formatBytes(d.sizeBytes)} ${d.location ?? ''}`.trimEnd()),
    ...v.nics.map((n) => `nic:      ${n.mac ?? '-'} ${n.network ?? ''} ${n.model ?? ''}`.trimEnd()),
    `actions:  ${v.actions.join(', ') || '-'}`,
  ].join('\n') + '\n';
}

function driverTable(drivers: DriverView[]): string {
  const caps = Object.keys(drivers[0]?.capabilities ?? {});
  return table(['CAPABILITY', ...drivers.map((d) => d.name.toUpperCase())], caps.map((c) => [c, ...drivers.map((d) => (d.capabilities[c]?.supported ? 'yes' : 'no'))]));
}

export function registerEndpointCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const json = (o: { json?: boolean }): boolean => o.json === true || g().json === true;
  const ep = program.command('endpoint').description('other hypervisors this daemon manages: libvirt, vSphere, Proxmox VE (docs/drivers.md)');

  ep.command('add <name>')
    .description('add an endpoint (admin); the connection is proven first, nothing is kept when it fails')
    .requiredOption('--driver <driver>', 'libvirt, vsphere, proxmox, hyperv or xcpng (`polyvisor driver list`)')
    // The program's own --url (the daemon's URL) would take this flag wherever it stands: here --url is always the
    // endpoint's URL, and the daemon is named by --socket, --remote or POLYVISOR_URL.
    .option('--url <url>', 'the endpoint: qemu+unix:///system?socket=PATH, https://VCENTER/sdk, https://PVE:8006 (name the daemon with --socket, --remote or POLYVISOR_URL)')
    .option('--user <user>', 'user name (vSphere: user@vsphere.local; Proxmox: root@pam)')
    .option('--password-file <file>', 'read the password from this file')
    .option('--password-stdin', 'read the password from standard input')
    .option('--token-file <file>', 'read an API token from this file (Proxmox: USER@REALM!TOKENID=SECRET)')
    .option('--ca <file>', 'PEM file of the CA (or self-signed certificate) to trust')
    .option('--insecure', 'do not check the certificate (labs only)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { driver: string; url?: string; user?: string; passwordFile?: string; passwordStdin?: boolean; tokenFile?: string; ca?: string; insecure?: boolean; json?: boolean }) => {
      const url = o.url ?? g().url;
      if (url === undefined) fail('INVALID_ARGUMENT', 'give the endpoint\'s URL with --url URL');
      const ways = [o.passwordFile, o.passwordStdin, o.tokenFile].filter((x) => x !== undefined).length;
      if (ways > 1) fail('INVALID_ARGUMENT', 'give at most one of --password-file, --password-stdin and --token-file');
      const password = o.passwordFile !== undefined ? await readSecretFile(o.passwordFile, 'password', { trimNewline: true })
        : o.passwordStdin ? await readSecretFromStdin('password') : undefined;
      const token = o.tokenFile !== undefined ? await readSecretFile(o.tokenFile, 'API token', { trimNewline: true }) : undefined;
      const ca = o.ca !== undefined ? await readFile(o.ca, 'utf8').catch((err: unknown) => fail('INVALID_ARGUMENT', `cannot read --ca ${o.ca}`, { cause: err })) : undefined;
      const { url: _endpointUrl, ...daemon } = g();
      const e = await endpointClientFrom(daemon).add({
        name, driver: o.driver, url, ...(o.user ? { user: o.user } : {}), ...(password !== undefined ? { password } : {}),
        ...(token !== undefined ? { token } : {}), ...(ca !== undefined ? { ca } : {}), ...(o.insecure ? { insecure: true } : {}),
      });
      out(json(o) ? JSON.stringify(e, null, 2) + '\n' : `endpoint ${e.name}: added (${e.status?.product ?? e.driver}, ${e.status?.vms ?? 0} VMs)\n`);
    });

  ep.command('list')
    .alias('ls')
    .description('endpoints with their last status (never credentials)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await endpointClientFrom(g()).list();
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['NAME', 'DRIVER', 'URL', 'AUTH', 'TLS', 'STATUS'], list.map((e) => [e.name, e.driver, e.url, e.auth, e.tls, statusText(e)])));
    });

  ep.command('show <name>')
    .description('one endpoint and its last status')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const e = await endpointClientFrom(g()).show(name);
      out(json(o) ? JSON.stringify(e, null, 2) + '\n' : endpointDetails(e));
    });

  ep.command('test <name>')
    .description('connect afresh: product, hosts, VM count (fails with the endpoint\'s error code when it cannot connect)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const e = await endpointClientFrom(g()).test(name);
      out(json(o) ? JSON.stringify(e, null, 2) + '\n' : endpointDetails(e));
      const err = e.status?.error;
      if (err) throw new PolyvisorError(isErrorCode(err.code) ? err.code : 'ENDPOINT_UNREACHABLE', `endpoint ${name}: ${err.message}`);
    });

  ep.command('rm <name>')
    .alias('remove')
    .description('forget an endpoint and its credentials (admin); its VMs are not touched')
    .action(async (name: string) => {
      await endpointClientFrom(g()).remove(name);
      out(`endpoint ${name}: removed\n`);
    });

  const drv = program.command('driver').description('hypervisor drivers and what each can do');
  drv.command('list')
    .alias('ls')
    .description('the capability matrix of every driver (docs/drivers.md has the notes)')
    .option('--json', 'print JSON (every cell with its note)')
    .action(async (o: { json?: boolean }) => {
      const list = await endpointClientFrom(g()).drivers();
      out(json(o) ? JSON.stringify(list, null, 2) + '\n'
        : table(['DRIVER', 'LIVE', 'WHAT'], list.map((d) => [d.name, d.live ? 'yes' : 'files only', d.title])) + '\n' + driverTable(list));
    });
}
