/**
 * move.fromLocal: a local VM's spec defined (not started) on the endpoint's
 * first host, its disks already copied into diskDir(vm) by the caller. The
 * domain XML comes from domainXml (pure, golden-tested); the serial console
 * is a unix socket in the VM's folder, its output also appended to
 * serial.log there.
 */
import { mkdir } from 'node:fs/promises';
import { PolyvisorError, newUuid } from '../../shared/index.js';
import type { ForeignImporter } from '../endpoint.js';
import type { LibvirtContext } from './context.js';
import { domainXml } from './domain-xml.js';
import { serialLogIn, serialSocketIn, vmDir } from './files.js';

/** kvm when the host's libvirt offers it, else qemu (TCG). */
async function probeDomainType(ctx: LibvirtContext, signal: AbortSignal): Promise<'kvm' | 'qemu'> {
  if (ctx.options.domainType !== 'probe') return ctx.options.domainType;
  try {
    await ctx.hosts[0]!.virsh.call(['domcapabilities', '--virttype', 'kvm'], signal);
    return 'kvm';
  } catch {
    return 'qemu';
  }
}

export function importerPart(ctx: LibvirtContext): ForeignImporter {
  return {
    diskDir: (vm) => vmDir(ctx.options.diskRoot, vm),

    async define(spec, disks, signal) {
      const h = ctx.hosts[0]!;
      const dir = vmDir(ctx.options.diskRoot, spec.name);
      const exists = await h.virsh.call(['domuuid', '--domain', spec.name], signal).then(() => true, () => false);
      if (exists) throw new PolyvisorError('VM_EXISTS', `a domain named ${spec.name} already exists on ${h.host.name}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const diskPaths: Record<string, string> = {};
      const diskFormats: Record<string, string> = {};
      for (const [name, d] of Object.entries(disks)) {
        diskPaths[name] = d.path;
        diskFormats[name] = d.format;
      }
      const xml = domainXml(spec, {
        uuid: newUuid(),
        diskPaths,
        diskFormats,
        serialSocket: serialSocketIn(dir, h.host),
        serialLog: serialLogIn(dir),
        emulator: ctx.options.emulator,
        domainType: await probeDomainType(ctx, signal),
      });
      await h.virsh.withXml(xml, (file) => ['define', '--file', file], signal);
      return (await ctx.describe(spec.name, signal, h)).vm;
    },
  };
}
