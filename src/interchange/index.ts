/** Foreign VM formats (OVF/OVA, VMX, VirtualBox, Hyper-V, libvirt XML, Proxmox, XVA): pure readers and writers, and the import/export steps around them. */
export * from './types.js';
