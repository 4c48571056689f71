/** Foreign VM formats (OVF/OVA, VMX, VirtualBox, Hyper-V, libvirt XML, Proxmox, XVA): pure readers and writers, and the import/export steps around them. */
export * from './types.js';
export { readHyperv } from './hyperv-read.js';
export { readHypervXml } from './hyperv-xml-read.js';
export { readHypervScript } from './hyperv-script-read.js';
export { writeHyperv } from './hyperv-write.js';
export { readProxmox } from './proxmox-read.js';
export { writeProxmox, PROXMOX_EXPORT_VMID } from './proxmox-write.js';
export { parseForeignXml, type XmlElement } from './safe-xml.js';
export { Warnings } from './map-helpers.js';
export { readOvf } from './ovf-read.js';
export { writeOvf } from './ovf-write.js';
export { readVmx } from './vmx-read.js';
export { writeVmx } from './vmx-write.js';
export { readVmdkDescriptor, type VmdkDescriptor, type VmdkExtent } from './vmdk-descriptor.js';
export { parseManifest, writeManifest } from './manifest.js';
export { readVbox } from './vbox-read.js';
export { writeVbox } from './vbox-write.js';
