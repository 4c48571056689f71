/**
 * info, list and get. A list is two commands per host on its long-lived
 * interactive virsh (virsh-shell.ts; started by connect's `version`): `list
 * --all --uuid --name` (ids) and `domstats --state --vcpu --balloon --block`
 * (state, CPUs, memory, disks of every domain in one RPC:
 * virConnectGetAllDomainStats). NICs, firmware and guest OS need the XML:
 * `get` reads it, `list` leaves them empty (docs/drivers-libvirt.md).
 */
import { PolyvisorError } from '../../shared/index.js';
import type { EndpointInfo, ForeignVm } from '../endpoint.js';
import { stateOfCode } from './domain-facts.js';
import type { HostConn, LibvirtContext } from './context.js';
import { num, parseDomstats, parseUuidNames } from './virsh-parse.js';

export async function endpointInfo(ctx: LibvirtContext, signal: AbortSignal): Promise<EndpointInfo> {
  const versions = await Promise.all(ctx.hosts.map(async (h) => (await h.virsh.fixed([['version']], signal))[0]!));
  const first = versions[0]!;
  const lib = /Running against daemon:\s*([\d.]+)/.exec(first)?.[1] ?? /Using library: libvirt ([\d.]+)/.exec(first)?.[1];
  const hv = /Running hypervisor: (\S+) ([\d.]+)/.exec(first);
  if (!lib) throw new PolyvisorError('ENDPOINT_PROTOCOL', `virsh version printed no libvirt version: ${first.slice(0, 200)}`);
  return {
    product: `libvirt ${lib}${hv ? ` (${hv[1]} ${hv[2]})` : ''}`,
    version: lib,
    hosts: ctx.hosts.map((h) => h.host.name),
  };
}

async function listHost(ctx: LibvirtContext, h: HostConn, signal: AbortSignal): Promise<ForeignVm[]> {
  const [ids, stats] = (await h.virsh.fixed([['list', '--all', '--uuid', '--name'], ['domstats', '--raw', '--state', '--vcpu', '--balloon', '--block']], signal)) as [string, string];
  const rows = parseDomstats(stats);
  const out: ForeignVm[] = [];
  for (const { uuid, name } of parseUuidNames(ids)) {
    const r = rows.get(name);
    if (!r) continue; // undefined between the two calls
    const blocks = num(r, 'block.count') ?? 0;
    const disks = [];
    for (let i = 0; i < blocks; i++) {
      disks.push({ name: r.get(`block.${i}.name`) ?? `disk${i}`, sizeBytes: num(r, `block.${i}.capacity`), location: r.get(`block.${i}.path`) ?? null, format: null });
    }
    out.push({
      id: uuid,
      name,
      state: stateOfCode(num(r, 'state.state') ?? 0, num(r, 'state.reason') ?? 0),
      cpus: num(r, 'vcpu.current') ?? 0,
      memoryBytes: (num(r, 'balloon.maximum') ?? 0) * 1024,
      host: ctx.multiHost ? h.host.name : null,
      guestOs: null,
      firmware: null,
      disks,
      nics: [],
    });
  }
  return out;
}

export async function listVms(ctx: LibvirtContext, signal: AbortSignal): Promise<ForeignVm[]> {
  const per = await Promise.all(ctx.hosts.map((h) => listHost(ctx, h, signal)));
  return per.flat();
}

export async function getVm(ctx: LibvirtContext, vm: string, signal: AbortSignal): Promise<ForeignVm> {
  return (await ctx.describe(vm, signal)).vm;
}
