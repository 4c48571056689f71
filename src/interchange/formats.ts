/**
 * Which format a file is (by its extension, and for `.xml` by its root
 * element; an XVA's `ova.xml` is `<value>`), and the readers and writers of src/interchange by format. libvirt
 * domain XML is served by drivers/libvirt and added by the daemon. Pure.
 */
import { fail } from '../shared/index.js';
import { readHyperv } from './hyperv-read.js';
import { writeHyperv } from './hyperv-write.js';
import { readOvf } from './ovf-read.js';
import { writeOvf } from './ovf-write.js';
import { readProxmox } from './proxmox-read.js';
import { writeProxmox } from './proxmox-write.js';
import type { InterchangeFormat, Reader, Writer } from './types.js';
import { readVmx } from './vmx-read.js';
import { writeVmx } from './vmx-write.js';
import { readVbox } from './vbox-read.js';
import { writeVbox } from './vbox-write.js';
import { readXva } from './xva-read.js';

export interface FormatCodec {
  read?: Reader;
  write?: Writer;
}

export type FormatCodecs = Partial<Record<InterchangeFormat, FormatCodec>>;

/** The formats src/interchange reads and writes itself. */
export function builtinCodecs(): FormatCodecs {
  return {
    ovf: { read: readOvf, write: writeOvf },
    vmx: { read: readVmx, write: writeVmx },
    vbox: { read: readVbox, write: writeVbox },
    hyperv: { read: readHyperv, write: writeHyperv },
    proxmox: { read: readProxmox, write: writeProxmox },
    xva: { read: readXva },
  };
}

const BY_EXTENSION: Record<string, InterchangeFormat> = {
  ova: 'ova', ovf: 'ovf', vmx: 'vmx', vbox: 'vbox', ps1: 'hyperv', conf: 'proxmox', xva: 'xva',
};

/** The format of a descriptor, from its name and its first bytes. */
export function detectFormat(file: string, head: string): InterchangeFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  const byExt = BY_EXTENSION[ext];
  if (byExt !== undefined) return byExt;
  if (ext === 'xml') {
    const root = /<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]/.exec(head.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, ''))?.[2];
    if (root === 'domain') return 'libvirt';
    if (root === 'configuration') return 'hyperv';
    if (root === 'Envelope') return 'ovf';
    if (root === 'VirtualBox') return 'vbox';
    if (root === 'value') return 'xva'; // an XVA's ova.xml (XML-RPC)
    fail('INTERCHANGE_INVALID', `${file}: an XML file whose root element <${root ?? '?'}> is none Polyvisor reads (libvirt <domain>, Hyper-V <configuration>, OVF <Envelope>, VirtualBox <VirtualBox>, XVA ova.xml <value>)`);
  }
  fail('INTERCHANGE_INVALID', `${file}: the extension .${ext} names no format Polyvisor imports (.ova .ovf .vmx .vbox .xml .conf .ps1 .xva)`);
}
