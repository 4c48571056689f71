/**
 * VmSpec → libvirt domain XML. PURE and deterministic: the same spec and
 * options give the same text (golden tests in test/golden/libvirt/). The
 * mapping follows what the native QEMU driver starts for the same spec (see
 * docs/drivers-libvirt-xml.md for the table); what libvirt XML cannot say is a
 * SPEC_INVALID error naming the field, never silently dropped.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { VmSpec } from '../../spec/index.js';
import { bootIndexes } from '../qemu/argv.js';
import { agentElements, balloonElement, controllerElements, displayElements, interfaceElements, serialElements } from './domain-xml-devices.js';
import { diskControllers, diskElements, seedDisk, xmlBus } from './domain-xml-disks.js';
import { hintsFor } from './domain-xml-hints.js';
import { metadataElement, type Hint } from './domain-xml-metadata.js';
import { el, renderXml, textEl, XML_ILLEGAL, type XmlNode } from './domain-xml-node.js';
import { parseDomainDocument } from './domain-xml-parse.js';
import { readCore } from './domain-xml-read.js';

export const DEFAULT_EMULATOR = '/usr/bin/qemu-system-x86_64';
/** Debian's ovmf package: the 4 MiB build without Secure Boot (what the native driver uses). */
export const DEFAULT_OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' } as const;

export interface DomainXmlOptions {
  uuid: string;
  /** Disk name → image path; a spec disk with `path` may be left out (its path is used). */
  diskPaths: Record<string, string>;
  /** Disk name → the image's real format (qcow2 or raw), when probed; else the spec's (raw for CD-ROMs). */
  diskFormats?: Record<string, string>;
  /** ttyS0 on this unix socket (`<serial type='unix'><source mode='bind'>`); else a pty. */
  serialSocket?: string;
  /** Append everything the guest writes on ttyS0 to this file too. */
  serialLog?: string;
  /** The guest agent channel's unix socket; else libvirt picks one. */
  agentSocket?: string;
  /** VNC on this unix socket; else on 127.0.0.1 with an automatic port. */
  vncSocket?: string;
  /** The cloud-init seed ISO (required when the spec has cloudInit; the driver builds it). */
  cloudInitSeed?: string;
  emulator?: string;
  /** Default from spec.machine.accel: tcg → qemu, kvm → kvm, auto → kvm (pass what the host probe found). */
  domainType?: 'kvm' | 'qemu';
  /** UEFI: this VM's variable store (libvirt copies the template there if missing); else libvirt's default path. */
  nvramPath?: string;
  /** The libvirt takes `<backend type='passt'/>` with `<portForward>` (needed for port forwards; Debian's 9.0 does not). */
  passt?: boolean;
  /** UEFI firmware pair; default Debian's OVMF_CODE_4M.fd / OVMF_VARS_4M.fd. */
  ovmf?: { code: string; vars: string };
}

export function domainXml(spec: VmSpec, o: DomainXmlOptions): string {
  const plain = domainNode(spec, o, []);
  // Read the XML back: every spec value it says differently becomes a hint, or SPEC_INVALID when no hint may carry it.
  const hints = hintsFor(spec, readCore(parseDomainDocument(renderXml(plain))).spec, new Set(Object.keys(o.diskFormats ?? {})));
  return renderXml(hints.length === 0 ? plain : domainNode(spec, o, hints));
}

/** The <domain> tree with the given hints in its metadata. */
function domainNode(spec: VmSpec, o: DomainXmlOptions, hints: Hint[]): XmlNode {
  const type = domainType(spec, o);
  if (spec.cpu.model === 'host' && type !== 'kvm') {
    throw invalid('cpu.model', `cpu model "host" needs KVM, but the domain type is ${type}; use "max"`);
  }
  if (XML_ILLEGAL.test(spec.description)) throw invalid('description', 'contains control characters XML cannot hold');
  const boot = new Map([...bootIndexes(spec)].map(([k, v]) => [k, v + 1])); // libvirt boot orders start at 1
  if (spec.cloudInit && o.cloudInitSeed === undefined) throw new Error('domainXml: the spec has cloudInit but no cloudInitSeed path was given');
  const disks = spec.cloudInit ? [...spec.disks, seedDisk(spec, o.cloudInitSeed!)] : spec.disks;
  const kib = Math.ceil(spec.memory / 1024);
  return el('domain', { type }, [
    textEl('name', spec.name),
    textEl('uuid', o.uuid),
    spec.description !== '' && textEl('description', spec.description),
    metadataElement(spec, hints),
    textEl('memory', kib, { unit: 'KiB' }),
    textEl('currentMemory', kib, { unit: 'KiB' }),
    textEl('vcpu', spec.cpu.count, { placement: 'static' }),
    osElement(spec, o),
    el('features', {}, [el('acpi'), el('apic')]),
    cpuElement(spec),
    el('clock', { offset: 'utc' }),
    el('devices', {}, [
      textEl('emulator', o.emulator ?? DEFAULT_EMULATOR),
      ...diskElements({ spec, disks, paths: o.diskPaths, formats: o.diskFormats ?? {}, bootOrder: boot }),
      ...diskControllers(spec, disks),
      ...controllerElements(spec, disks.filter((d) => xmlBus(spec, d) === 'virtio').length, disks.some((d) => xmlBus(spec, d) === 'scsi')),
      ...interfaceElements(spec, boot, o.passt === true),
      ...serialElements(spec, o),
      ...agentElements(spec, o),
      ...displayElements(spec, o),
      balloonElement(),
    ]),
  ]);
}

function domainType(spec: VmSpec, o: DomainXmlOptions): 'kvm' | 'qemu' {
  if (o.domainType !== undefined) return o.domainType;
  return spec.machine.accel === 'tcg' ? 'qemu' : 'kvm';
}

function osElement(spec: VmSpec, o: DomainXmlOptions): XmlNode {
  const b = spec.boot;
  const uefi = b.firmware === 'uefi';
  const ovmf = o.ovmf ?? DEFAULT_OVMF;
  return el('os', {}, [
    textEl('type', 'hvm', { arch: 'x86_64', machine: spec.machine.type }),
    uefi && textEl('loader', ovmf.code, { readonly: 'yes', type: 'pflash' }),
    uefi && (o.nvramPath === undefined ? el('nvram', { template: ovmf.vars }) : textEl('nvram', o.nvramPath, { template: ovmf.vars })),
    b.kernel !== undefined && textEl('kernel', b.kernel),
    b.initrd !== undefined && textEl('initrd', b.initrd),
    b.cmdline !== undefined && textEl('cmdline', b.cmdline),
  ]);
}

/** max → mode maximum (libvirt 7.1+), host → host-passthrough, named models → custom with no fallback. */
function cpuElement(spec: VmSpec): XmlNode {
  const c = spec.cpu;
  const topology = el('topology', { sockets: c.sockets, dies: 1, cores: c.cores, threads: c.threads });
  if (c.model === 'max') return el('cpu', { mode: 'maximum', check: 'none' }, [topology]);
  if (c.model === 'host') return el('cpu', { mode: 'host-passthrough', check: 'none' }, [topology]);
  return el('cpu', { mode: 'custom', match: 'exact', check: 'none' }, [textEl('model', c.model, { fallback: 'forbid' }), topology]);
}

function invalid(field: string, message: string): PolyvisorError {
  return new PolyvisorError('SPEC_INVALID', `${field}: ${message}`, { details: [{ field, message }] });
}
