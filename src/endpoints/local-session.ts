/**
 * The `local` endpoint (this daemon's QEMU engine) in the shape every
 * driver's session has, so one conformance suite runs against it as against
 * libvirt, vSphere and Proxmox VE. It wraps the services the REST API uses;
 * what the local engine does beyond the session's parts (backups, hotplug,
 * moves between daemons, image import/export, VNC) keeps its own routes.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EndpointSession, ForeignVm, ForeignVmState } from '../drivers/index.js';
import { cloneVm, sampleVms, type SnapshotService, type VmService } from '../lifecycle/index.js';
import { fail, isPolyvisorError, PolyvisorError } from '../shared/index.js';
import { specAsInput, validateSpec, type VmState } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';

const STATE: Partial<Record<VmState, ForeignVmState>> = { created: 'stopped', stopped: 'stopped', running: 'running', paused: 'paused', suspended: 'suspended' };

export function localVm(r: VmRecord): ForeignVm {
  return {
    id: r.id, name: r.name, state: STATE[r.state] ?? 'unknown', cpus: r.spec.cpu.count, memoryBytes: r.spec.memory, host: r.host, guestOs: null,
    firmware: r.spec.boot.firmware === 'uefi' ? 'uefi' : 'bios',
    disks: r.spec.disks.map((d) => ({ name: d.name, sizeBytes: d.size ?? null, location: d.path ?? null, format: d.format })),
    nics: r.spec.networks.map((n) => ({ mac: n.mac ?? null, network: n.name, model: n.model })),
  };
}

/** VM_NOT_FOUND of the local services is the session's FOREIGN_VM_NOT_FOUND. */
async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isPolyvisorError(err, 'VM_NOT_FOUND')) throw new PolyvisorError('FOREIGN_VM_NOT_FOUND', err.message, { cause: err });
    throw err;
  }
}

export function localSession(o: { vms: VmService; snapshots: SnapshotService; host: string }): EndpointSession {
  const { vms, snapshots } = o;
  return {
    async info() { return { product: 'Polyvisor QEMU engine', version: '1', hosts: [o.host] }; },
    async list() { return (await vms.list()).map(localVm); },
    async get(name) { return localVm(await mapped(vms.get(name))); },
    async close() {},
    power: {
      // A suspended VM starts by restoring its RAM (the local API calls that resume).
      async start(name, signal) { await mapped((await mapped(vms.get(name))).state === 'suspended' ? vms.resume(name, { signal }) : vms.start(name, { signal })); },
      async shutdown(name, signal) { await mapped(vms.stop(name, { signal })); },
      async kill(name) { await mapped(vms.kill(name)); },
      async pause(name) { await mapped(vms.pause(name)); },
      async resume(name, signal) { await mapped(vms.resume(name, { signal })); },
      async suspend(name, signal) { await mapped(vms.suspend(name, { signal })); },
      async reboot(name, signal) { await mapped(vms.reboot(name, { signal })); },
    },
    snapshots: {
      async list(name) {
        const l = await mapped(snapshots.list(name));
        return l.snapshots.map((s) => ({ name: s.name, parent: s.parent, createdAt: s.createdAt, description: s.description, memory: s.kind === 'ram', current: l.current === s.name }));
      },
      async create(name, s) { await mapped(snapshots.create(name, { name: s.name, ...(s.description ? { description: s.description } : {}), ram: s.memory })); },
      async revert(name, snap) { await mapped(snapshots.revert(name, snap)); },
      async remove(name, snap) { await mapped(snapshots.delete(name, snap)); },
    },
    consoles: {
      async serial(name) {
        const rec = await mapped(vms.get(name));
        if (rec.state !== 'running' && rec.state !== 'paused') fail('INVALID_TRANSITION', `VM ${name} is ${rec.state}; its console exists while it runs`);
        const sock = net.connect(vms.files(rec).serialSocket);
        await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
        return sock as Duplex;
      },
    },
    reconfigure: {
      async setCpuMemory(name, c) {
        await mapped(vms.exclusive(name, async (rec) => {
          if (rec.state !== 'stopped' && rec.state !== 'created') fail('INVALID_TRANSITION', `VM ${name} is ${rec.state}; change CPU and memory while it is stopped`);
          const spec = validateSpec({ ...specAsInput(rec.spec), cpu: { ...rec.spec.cpu, count: c.cpus ?? rec.spec.cpu.count, sockets: undefined, cores: undefined, threads: undefined }, memory: `${Math.round((c.memoryBytes ?? rec.spec.memory) / 1024)}Ki` });
          return vms.saveSpec(rec, spec);
        }));
      },
    },
    clone: {
      async clone(name, newName, signal, onProgress) {
        const r = await mapped(cloneVm(vms, name, { name: newName }, { signal, ...(onProgress ? { onProgress } : {}) }));
        return localVm(r.record);
      },
    },
    events: {
      watch(onChange) {
        const onState = (c: { vm: string; to: string }) => onChange({ vm: c.vm, state: STATE[c.to as VmState] ?? 'unknown' });
        const onRemoved = (r: { vm: string }) => onChange({ vm: r.vm, gone: true });
        vms.states.on('state', onState);
        vms.states.on('removed', onRemoved);
        return () => {
          vms.states.off('state', onState);
          vms.states.off('removed', onRemoved);
        };
      },
    },
    metrics: {
      async stats(signal) {
        return (await sampleVms(vms, { signal, perVmTimeoutMs: 2000 })).map((s) => ({
          vm: s.name,
          cpuSeconds: s.stats?.cpuSeconds ?? null,
          memoryUsedBytes: s.stats?.rssBytes ?? null,
          diskReadBytes: s.stats ? s.stats.disks.reduce((n, d) => n + d.readBytes, 0) : null,
          diskWriteBytes: s.stats ? s.stats.disks.reduce((n, d) => n + d.writeBytes, 0) : null,
          netRxBytes: s.stats ? s.stats.nics.reduce((n, d) => n + d.rxBytes, 0) : null,
          netTxBytes: s.stats ? s.stats.nics.reduce((n, d) => n + d.txBytes, 0) : null,
        }));
      },
    },
  };
}
