/**
 * The session's hosts and how a VM is found among them: the shared state of
 * every part (power, snapshots, migration…). One host is the common case; an
 * endpoint of several libvirtd lets VMs live-migrate between them.
 */
import { PolyvisorError, isPolyvisorError } from '../../shared/index.js';
import type { ForeignVm } from '../endpoint.js';
import { domainFacts, stateOf, type DomainFacts } from './domain-facts.js';
import type { LibvirtHost } from './hosts.js';
import type { Virsh } from './virsh.js';

export interface HostConn {
  host: LibvirtHost;
  virsh: Virsh;
}

export interface LibvirtOptions {
  /** Folder (on the libvirt host) under which VMs that Polyvisor defines or clones get a folder each. */
  diskRoot: string;
  /** Domain type for VMs Polyvisor defines: kvm, qemu (TCG), or probe the host (`virsh domcapabilities`). */
  domainType: 'kvm' | 'qemu' | 'probe';
  /** QEMU binary for domains Polyvisor defines (default Debian's /usr/bin/qemu-system-x86_64). */
  emulator?: string;
}

/** A domain with its facts and state, on the host that has it. */
export interface Located extends HostConn {
  facts: DomainFacts;
  vm: ForeignVm;
}

export class LibvirtContext {
  constructor(
    readonly hosts: HostConn[],
    readonly options: LibvirtOptions,
  ) {}

  get multiHost(): boolean {
    return this.hosts.length > 1;
  }

  host(name: string): HostConn {
    const h = this.hosts.find((x) => x.host.name === name);
    if (!h) throw new PolyvisorError('INVALID_ARGUMENT', `no host "${name}" in this libvirt endpoint (hosts: ${this.hosts.map((x) => x.host.name).join(', ')})`);
    return h;
  }

  /** The host that has `vm`: the one where it runs, else the first that defines it. */
  async locate(vm: string, signal: AbortSignal): Promise<HostConn> {
    if (!this.multiHost) return this.hosts[0]!;
    const found = await Promise.all(
      this.hosts.map(async (h) => {
        try {
          return { h, state: stateOf(await h.virsh.call(['domstate', '--domain', vm], signal)) };
        } catch (err) {
          if (isPolyvisorError(err, 'FOREIGN_VM_NOT_FOUND')) return null;
          throw err;
        }
      }),
    );
    const hits = found.filter((x): x is NonNullable<typeof x> => x !== null);
    const live = hits.find((x) => x.state === 'running' || x.state === 'paused');
    const pick = live ?? hits[0];
    if (!pick) throw new PolyvisorError('FOREIGN_VM_NOT_FOUND', `no domain named "${vm}" on ${this.hosts.map((x) => x.host.name).join(', ')}`);
    return pick.h;
  }

  /** The domain's XML facts and state (live XML when it runs). */
  async describe(vm: string, signal: AbortSignal, where?: HostConn): Promise<Located> {
    const h = where ?? (await this.locate(vm, signal));
    const [xml, state] = await Promise.all([
      h.virsh.call(['dumpxml', '--domain', vm], signal),
      h.virsh.call(['domstate', '--reason', '--domain', vm], signal),
    ]);
    const facts = domainFacts(xml);
    const { serial: _s, domainType: _t, ...rest } = facts;
    return { ...h, facts, vm: { ...rest, state: stateOf(state), host: this.multiHost ? h.host.name : null } };
  }
}

/** Names go to virsh as the value of --domain / --snapshotname, so none is read as an option; control characters are refused. */
export function checkName(kind: string, name: string): string {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (name === '' || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new PolyvisorError('INVALID_ARGUMENT', `${kind} name "${name.slice(0, 60)}" is empty, longer than 255 characters or holds control characters`);
  }
  return name;
}
