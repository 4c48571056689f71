/**
 * mdev creation and removal through sysfs, on a copy of the GPU host FIXTURE
 * tree (test/fixtures/host-sysfs/gpu-iommu: an NVIDIA T4's
 * mdev_supported_types) in a temp dir. No real mdev device exists here (no
 * GPU, no vfio-mdev driver): the test checks what is written where and the
 * refusals; a kernel would make /sys/bus/mdev/devices/UUID appear on the write.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateSpec } from '../../spec/index.js';
import { mdevUuid } from './argv-topology-devices.js';
import { createMdev, createVmMdevs, mdevRequests, removeMdev, removeVmMdevs } from './mdev-sysfs.js';

const FIX = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'host-sysfs', 'gpu-iommu');
const T4 = '0000:3b:00.0';
const VM_ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const U1 = '4b20d080-1b54-4048-85b3-a6a62d165c01';
let root: string;
const typeFile = (type: string, f: string) => path.join(root, 'sys/bus/pci/devices', T4, 'mdev_supported_types', type, f);
/** What the kernel would do after a create: the device directory with its type link and remove attribute. */
async function kernelMade(uuid: string, type: string): Promise<void> {
  const dev = path.join(root, 'sys/bus/mdev/devices', uuid);
  await mkdir(dev, { recursive: true });
  await symlink(`../../../../bus/pci/devices/${T4}/mdev_supported_types/${type}`, path.join(dev, 'mdev_type'));
  await writeFile(path.join(dev, 'remove'), '');
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pv-mdev-'));
  await cp(FIX, root, { recursive: true, verbatimSymlinks: true });
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('createMdev / removeMdev on a fixture tree', () => {
  it('writes the UUID to the type\'s create attribute', async () => {
    expect(await createMdev({ parent: T4, type: 'nvidia-232', uuid: U1 }, root)).toBe('created');
    expect(await readFile(typeFile('nvidia-232', 'create'), 'utf8')).toBe(`${U1}\n`);
  });

  it('refuses a type with no free instance, a type the device does not offer, and bad names, writing nothing', async () => {
    await expect(createMdev({ parent: T4, type: 'nvidia-222', uuid: U1 }, root)).rejects.toMatchObject({ code: 'HOST_TOPOLOGY_UNFIT', message: `${T4} has no free instance of nvidia-222: available_instances is 0` });
    expect(await readFile(typeFile('nvidia-222', 'create'), 'utf8')).toBe('');
    await expect(createMdev({ parent: T4, type: 'nvidia-999', uuid: U1 }, root)).rejects.toMatchObject({ message: `${T4} offers no mdev type nvidia-999` });
    await expect(createMdev({ parent: T4, type: '../../x', uuid: U1 }, root)).rejects.toThrow(/not an mdev type name/);
    await expect(createMdev({ parent: T4, type: 'nvidia-232', uuid: 'x; rm -rf /' }, root)).rejects.toThrow(/not an mdev UUID/);
  });

  it('a type without a create attribute is an error, not a new file', async () => {
    await rm(typeFile('nvidia-233', 'create'));
    await expect(createMdev({ parent: T4, type: 'nvidia-233', uuid: U1 }, root)).rejects.toMatchObject({ code: 'HOST_TOPOLOGY_UNFIT', message: expect.stringContaining('the kernel refused mdev') });
    await expect(readFile(typeFile('nvidia-233', 'create'))).rejects.toThrow(/ENOENT/);
  });

  it('an existing device of the same type is reused; of another type it is refused', async () => {
    await kernelMade(U1, 'nvidia-232');
    expect(await createMdev({ parent: T4, type: 'nvidia-232', uuid: U1 }, root)).toBe('existed');
    expect(await readFile(typeFile('nvidia-232', 'create'), 'utf8')).toBe('');
    await expect(createMdev({ parent: T4, type: 'nvidia-233', uuid: U1 }, root)).rejects.toMatchObject({ message: expect.stringContaining(`exists with type nvidia-232, not nvidia-233`) });
  });

  it('remove writes 1 to the device\'s remove attribute; a missing device is absent', async () => {
    await kernelMade(U1, 'nvidia-232');
    expect(await removeMdev(U1, root)).toBe('removed');
    expect(await readFile(path.join(root, 'sys/bus/mdev/devices', U1, 'remove'), 'utf8')).toBe('1\n');
    expect(await removeMdev('4b20d080-1b54-4048-85b3-a6a62d165c02', root)).toBe('absent');
  });
});

describe('a VM\'s mdevs', () => {
  const spec = validateSpec({
    name: 'vdi', boot: { kernel: '/k' },
    devices: { hostdev: [{ pci: T4, mdevType: 'nvidia-233' }], gpu: { kind: 'mediated', mdevType: 'nvidia-232' } },
  });

  it('one per mdev entry, with the fixed UUIDs of the argv', () => {
    expect(mdevRequests(VM_ID, spec, { hostdev: [T4], gpu: T4 })).toEqual([
      { parent: T4, type: 'nvidia-233', uuid: mdevUuid(VM_ID, 0) },
      { parent: T4, type: 'nvidia-232', uuid: mdevUuid(VM_ID, 'gpu') },
    ]);
  });

  it('created at start, removed after stop by UUID', async () => {
    const made = await createVmMdevs(VM_ID, spec, { hostdev: [T4], gpu: T4 }, root);
    expect(made.map((m) => m.uuid)).toEqual([mdevUuid(VM_ID, 0), mdevUuid(VM_ID, 'gpu')]);
    expect(await readFile(typeFile('nvidia-233', 'create'), 'utf8')).toBe(`${mdevUuid(VM_ID, 0)}\n`);
    expect(await readFile(typeFile('nvidia-232', 'create'), 'utf8')).toBe(`${mdevUuid(VM_ID, 'gpu')}\n`);
    await kernelMade(mdevUuid(VM_ID, 0), 'nvidia-233');
    await kernelMade(mdevUuid(VM_ID, 'gpu'), 'nvidia-232');
    expect(await removeVmMdevs(VM_ID, spec, root)).toEqual([mdevUuid(VM_ID, 0), mdevUuid(VM_ID, 'gpu')]);
  });

  it('when one cannot be made, the start fails naming it (the ones made before are then removed: not shown, no kernel here makes them appear)', async () => {
    const bad = validateSpec({ name: 'vdi', boot: { kernel: '/k' }, devices: { hostdev: [{ pci: T4, mdevType: 'nvidia-233' }, { pci: T4, mdevType: 'nvidia-222' }] } });
    await expect(createVmMdevs(VM_ID, bad, { hostdev: [T4, T4] }, root)).rejects.toMatchObject({ code: 'HOST_TOPOLOGY_UNFIT', message: `${T4} has no free instance of nvidia-222: available_instances is 0` });
    expect(await readFile(typeFile('nvidia-233', 'create'), 'utf8')).toBe(`${mdevUuid(VM_ID, 0)}\n`);
  });
});
