import { describe, expect, it } from 'vitest';
import { cpusOf, disksOf, memoryMiB, nicsOf, qemuRows, sizeOf, stateOf, toForeignVm } from './map.js';
import { snapshotsOf } from './snapshots.js';

describe('proxmox map', () => {
  it('run state: QEMU process status, QMP status and the hibernation lock', () => {
    expect(stateOf('running', 'running', undefined)).toBe('running');
    expect(stateOf('running', 'paused', undefined)).toBe('paused');
    expect(stateOf('running', undefined, undefined)).toBe('running');
    expect(stateOf('stopped', undefined, 'suspended')).toBe('suspended');
    expect(stateOf('stopped', undefined, 'backup')).toBe('stopped');
    expect(stateOf('unknown', undefined, undefined)).toBe('unknown');
  });

  it('memory as plain MiB or as the property string; CPUs as vcpus or sockets × cores', () => {
    expect(memoryMiB('2048')).toBe(2048);
    expect(memoryMiB(4096)).toBe(4096);
    expect(memoryMiB('current=1024')).toBe(1024);
    expect(memoryMiB(undefined)).toBe(512);
    expect(cpusOf({ sockets: 2, cores: 4 })).toBe(8);
    expect(cpusOf({ sockets: 2, cores: 4, vcpus: 3 })).toBe(3);
    expect(cpusOf({})).toBe(1);
  });

  it('disks in boot order, CD-ROMs and empty drives left out, sizes and formats read', () => {
    const conf = {
      boot: 'order=virtio1;scsi0;ide2', scsi0: 'local-lvm:vm-100-disk-0,iothread=1,size=32G', virtio1: 'local:100/vm-100-disk-1.qcow2,size=1536M',
      ide2: 'local:iso/debian.iso,media=cdrom,size=600M', sata3: 'none', scsi10: 'ceph:vm-100-disk-2,format=raw,size=1T', net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0',
    };
    expect(disksOf(conf)).toEqual([
      { name: 'virtio1', sizeBytes: 1536 * 1024 ** 2, location: 'local:100/vm-100-disk-1.qcow2', format: 'qcow2' },
      { name: 'scsi0', sizeBytes: 32 * 1024 ** 3, location: 'local-lvm:vm-100-disk-0', format: null },
      { name: 'scsi10', sizeBytes: 1024 ** 4, location: 'ceph:vm-100-disk-2', format: 'raw' },
    ]);
    expect(sizeOf('x,size=10.5G')).toBe(Math.round(10.5 * 1024 ** 3));
    expect(sizeOf('x')).toBeNull();
  });

  it('NICs: model=MAC, bridge', () => {
    expect(nicsOf({ net1: 'e1000e=BC:24:11:00:00:02,bridge=vmbr1,tag=20', net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1' })).toEqual([
      { mac: 'bc:24:11:00:00:01', network: 'vmbr0', model: 'virtio' },
      { mac: 'bc:24:11:00:00:02', network: 'vmbr1', model: 'e1000e' },
    ]);
  });

  it('a whole VM, and only qemu rows of /cluster/resources', () => {
    const rows = qemuRows([
      { id: 'qemu/100', type: 'qemu', node: 'pve1', vmid: 100, name: 'web', status: 'running' },
      { id: 'lxc/200', type: 'lxc', node: 'pve1', vmid: 200, name: 'ct', status: 'running' },
      { id: 'node/pve1', type: 'node', node: 'pve1' },
      { id: 'qemu/101', type: 'qemu', node: 'pve2', vmid: 101, status: 'stopped' },
    ]);
    expect(rows.map((r) => [r.vmid, r.name])).toEqual([[100, 'web'], [101, 'VM 101']]);
    const vm = toForeignVm(rows[0]!, { name: 'web', cores: 2, memory: '2048', bios: 'ovmf', ostype: 'l26', scsi0: 'local-lvm:vm-100-disk-0,size=8G' }, 'paused');
    expect(vm).toMatchObject({ id: 'pve1/100', name: 'web', state: 'paused', cpus: 2, memoryBytes: 2048 * 1024 ** 2, host: 'pve1', firmware: 'uefi', guestOs: 'Linux (2.6 or later kernel)' });
  });

  it('snapshots: the tree from parent links, "current" marks where the VM runs from and is not listed', () => {
    const list = snapshotsOf([
      { name: 'b', parent: 'a', snaptime: 1_700_000_100, vmstate: 1, description: 'with RAM\n' },
      { name: 'a', snaptime: 1_700_000_000, vmstate: 0, description: '' },
      { name: 'current', parent: 'b', running: 1, description: 'You are here!', digest: 'x' },
    ]);
    expect(list).toEqual([
      { name: 'a', parent: null, createdAt: '2023-11-14T22:13:20.000Z', description: '', memory: false, current: false },
      { name: 'b', parent: 'a', createdAt: '2023-11-14T22:15:00.000Z', description: 'with RAM', memory: true, current: true },
    ]);
    expect(snapshotsOf([{ name: 'current', description: 'You are here!' }])).toEqual([]);
  });
});
