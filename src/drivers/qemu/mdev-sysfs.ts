/**
 * Mediated devices (vGPUs) made and removed through sysfs, as the kernel's
 * vfio-mediated-device documentation says: write a UUID to
 * `…/<parent>/mdev_supported_types/<type>/create`, the device appears as
 * `/sys/bus/mdev/devices/<UUID>`; write 1 to its `remove` to take it away.
 * Every path is under `root` ("/" on a host, a fixture tree in tests). The
 * kernel answers a write it refuses (no free instance, a UUID in use) with an
 * error, which becomes HOST_TOPOLOGY_UNFIT naming the device and type.
 */
import { constants } from 'node:fs';
import { open, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError } from '../../shared/index.js';
import { isPciAddress, type ResolvedDevices, type VmSpec } from '../../spec/index.js';
import { mdevUuid } from './argv-topology-devices.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface MdevRequest {
  /** PCI address of the parent device (the physical GPU). */
  parent: string;
  /** mdev type as sysfs names it, e.g. nvidia-232. */
  type: string;
  uuid: string;
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const devicePath = (root: string, uuid: string): string => path.join(root, 'sys/bus/mdev/devices', uuid);

/** Writes `value` to an existing sysfs attribute (no O_CREAT: a missing attribute is an error, not a new file). */
async function writeAttr(file: string, value: string): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_TRUNC);
  try {
    await fh.write(`${value}\n`);
  } finally {
    await fh.close();
  }
}

function check(r: MdevRequest): void {
  if (!UUID.test(r.uuid)) throw new Error(`not an mdev UUID: ${r.uuid}`);
  if (!isPciAddress(r.parent)) throw new Error(`not a PCI address: ${r.parent}`);
  if (!/^[\w.-]+$/.test(r.type)) throw new Error(`not an mdev type name: ${r.type}`);
}

/** Makes the mdev unless a device of that UUID and type exists already (a restart reuses it). */
export async function createMdev(r: MdevRequest, root = '/'): Promise<'created' | 'existed'> {
  check(r);
  const dev = devicePath(root, r.uuid);
  if (await exists(dev)) {
    const type = await readlink(path.join(dev, 'mdev_type')).then((l) => path.basename(l), () => undefined);
    if (type !== undefined && type !== r.type) {
      throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `mdev ${r.uuid} exists with type ${type}, not ${r.type}: remove it (echo 1 > /sys/bus/mdev/devices/${r.uuid}/remove)`);
    }
    return 'existed';
  }
  const typeDir = path.join(root, 'sys/bus/pci/devices', r.parent, 'mdev_supported_types', r.type);
  if (!(await exists(typeDir))) throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `${r.parent} offers no mdev type ${r.type}`);
  const available = (await readFile(path.join(typeDir, 'available_instances'), 'utf8').catch(() => '')).trim();
  if (available === '0') throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `${r.parent} has no free instance of ${r.type}: available_instances is 0`);
  try {
    await writeAttr(path.join(typeDir, 'create'), r.uuid);
  } catch (e) {
    throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `the kernel refused mdev ${r.uuid} of type ${r.type} on ${r.parent}: ${(e as Error).message}`, { cause: e });
  }
  return 'created';
}

/** Removes the mdev; 'absent' when there is none of that UUID. */
export async function removeMdev(uuid: string, root = '/'): Promise<'removed' | 'absent'> {
  if (!UUID.test(uuid)) throw new Error(`not an mdev UUID: ${uuid}`);
  const dev = devicePath(root, uuid);
  if (!(await exists(dev))) return 'absent';
  try {
    await writeAttr(path.join(dev, 'remove'), '1');
  } catch (e) {
    throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `the kernel refused to remove mdev ${uuid}: ${(e as Error).message}`, { cause: e });
  }
  return 'removed';
}

/** The mdevs a VM's spec asks for, with their fixed UUIDs and the parents the host check resolved. */
export function mdevRequests(vmId: string, spec: VmSpec, resolved: ResolvedDevices | undefined): MdevRequest[] {
  const out: MdevRequest[] = [];
  (spec.devices?.hostdev ?? []).forEach((h, i) => {
    const parent = resolved?.hostdev[i] ?? (isPciAddress(h.pci) ? h.pci : undefined);
    if (h.mdevType !== undefined && parent !== undefined) out.push({ parent, type: h.mdevType, uuid: mdevUuid(vmId, i) });
  });
  const gpu = spec.devices?.gpu;
  if (gpu?.kind === 'mediated') {
    const parent = resolved?.gpu ?? gpu.parent;
    if (parent !== undefined) out.push({ parent, type: gpu.mdevType, uuid: mdevUuid(vmId, 'gpu') });
  }
  return out;
}

/** Makes every mdev of the VM; if one fails, those made here are removed again. */
export async function createVmMdevs(vmId: string, spec: VmSpec, resolved: ResolvedDevices | undefined, root = '/'): Promise<MdevRequest[]> {
  const made: MdevRequest[] = [];
  for (const r of mdevRequests(vmId, spec, resolved)) {
    try {
      if ((await createMdev(r, root)) === 'created') made.push(r);
    } catch (e) {
      for (const m of made.reverse()) await removeMdev(m.uuid, root).catch(() => undefined);
      throw e;
    }
  }
  return made;
}

/** Removes every mdev of the VM (after its QEMU exited); returns the UUIDs removed. */
export async function removeVmMdevs(vmId: string, spec: VmSpec, root = '/'): Promise<string[]> {
  const removed: string[] = [];
  for (const r of mdevRequests(vmId, spec, undefined)) if ((await removeMdev(r.uuid, root)) === 'removed') removed.push(r.uuid);
  const gpu = spec.devices?.gpu;
  // A mediated GPU without `parent` resolves at start only: its UUID is fixed, so remove it by UUID.
  if (gpu?.kind === 'mediated' && gpu.parent === undefined && (await removeMdev(mdevUuid(vmId, 'gpu'), root)) === 'removed') removed.push(mdevUuid(vmId, 'gpu'));
  return removed;
}
