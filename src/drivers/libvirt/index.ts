/**
 * The libvirt driver: a libvirtd (or several, for live migration between
 * them) reached with virsh. docs/drivers-libvirt.md says how and why.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { EndpointConnection, EndpointDriver, EndpointSession } from '../endpoint.js';
import { writeAuthFile } from './auth-file.js';
import { LibvirtContext, type LibvirtOptions } from './context.js';
import { parseHosts, URL_EXAMPLE } from './hosts.js';
import { LIBVIRT_MATRIX } from './matrix.js';
import { libvirtSession } from './session.js';
import { Virsh } from './virsh.js';

export { LIBVIRT_MATRIX } from './matrix.js';
export { parseHosts, type LibvirtHost } from './hosts.js';
export { lifecycleChange } from './events.js';
export { domainFacts, stateOf, stateOfCode } from './domain-facts.js';
export { virshErrorCode, virshMessage } from './virsh-errors.js';
export { domainXml, type DomainXmlOptions } from './domain-xml.js';
export type { LibvirtOptions } from './context.js';

export const DEFAULT_DISK_ROOT = '/var/lib/polyvisor/libvirt';

export function createLibvirtDriver(options: Partial<LibvirtOptions> = {}): EndpointDriver {
  const opts: LibvirtOptions = { diskRoot: options.diskRoot ?? DEFAULT_DISK_ROOT, domainType: options.domainType ?? 'probe', emulator: options.emulator };
  return {
    name: 'libvirt',
    title: 'libvirt (libvirtd with the QEMU driver), through virsh',
    urlExample: URL_EXAMPLE,
    capabilities: LIBVIRT_MATRIX,
    async connect(c: EndpointConnection, signal: AbortSignal): Promise<EndpointSession> {
      const hosts = parseHosts(c.url);
      const authFile = await writeAuthFile(c.user, c.password);
      const ctx = new LibvirtContext(hosts.map((host) => ({ host, virsh: new Virsh(host.uri, authFile) })), opts);
      const session = libvirtSession(ctx, authFile);
      try {
        await session.info(signal);
      } catch (err) {
        for (const h of ctx.hosts) h.virsh.close();
        if (authFile) await rm(path.dirname(authFile), { recursive: true, force: true });
        throw err;
      }
      return session;
    },
  };
}
export { readLibvirtXml, writeLibvirtXml, LIBVIRT_IMAGE_DIR } from './interchange-format.js';
