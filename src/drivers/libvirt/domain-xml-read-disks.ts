/**
 * libvirt <disk> elements → spec disks (the adopt direction). A disk the spec
 * cannot hold (network or pool volume sources, other image formats, empty
 * drives, floppies, paths with characters the spec refuses) is left out and
 * listed; settings the spec has no field for are listed. Pure.
 */
import { CLOUD_INIT_DISK, type VmSpecInput } from '../../spec/index.js';
import { aliasOf, nameOfAlias } from './domain-xml-disks.js';
import { child, intOf, unknownChildren, type XNode } from './domain-xml-parse.js';
import { fits, specName } from './domain-xml-read-fit.js';

type DiskInput = NonNullable<VmSpecInput['disks']>[number];

const CACHES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'] as const;
const BUSES: Record<string, DiskInput['bus']> = { virtio: 'virtio', sata: 'sata', scsi: 'scsi', ide: 'sata' };
/** Children that carry nothing the spec lacks (placement, libvirt's own bookkeeping). */
const QUIET = ['driver', 'source', 'target', 'readonly', 'boot', 'alias', 'address', 'backingStore', 'mirror'];
const MAX_DISKS = 16;

export interface DisksRead {
  disks: DiskInput[];
  paths: Record<string, string>;
  /** The cloud-init seed CD-ROM (alias ua-cidata) was found and left out of disks. */
  seed: boolean;
  /** Boot orders of disks that have one, by disk name. */
  orders: Map<string, number>;
}

export function readDisks(devices: XNode | undefined, o: { lossy: string[]; seedExpected: boolean; ours: boolean }): DisksRead {
  const out: DisksRead = { disks: [], paths: {}, seed: false, orders: new Map() };
  const names = new Set<string>();
  for (const d of devices?.children.filter((c) => c.name === 'disk') ?? []) {
    const dev = child(d, 'target')?.attrs['dev'] ?? `disk${out.disks.length}`;
    const alias = child(d, 'alias')?.attrs['name'];
    if (o.seedExpected && alias === aliasOf(CLOUD_INIT_DISK) && d.attrs['device'] === 'cdrom') {
      out.seed = true;
      continue;
    }
    const disk = readDisk(d, dev, o.lossy);
    if (disk === undefined) continue;
    if (out.disks.length >= MAX_DISKS) {
      o.lossy.push(`disk ${dev} is not kept: a spec has at most ${MAX_DISKS} disks`);
      continue;
    }
    const fromAlias = nameOfAlias(alias, o.ours);
    let name = fromAlias !== undefined && fits({ disks: [{ name: fromAlias, path: '/p' }] }) ? fromAlias : specName(dev, `disk${out.disks.length}`);
    if (names.has(name) || (o.seedExpected && name === CLOUD_INIT_DISK)) name = `disk${out.disks.length}`;
    names.add(name);
    out.paths[name] = disk.path!;
    const order = intOf(child(d, 'boot')?.attrs['order']);
    if (order !== undefined) out.orders.set(name, order);
    out.disks.push({ ...disk, name });
  }
  return out;
}

function readDisk(d: XNode, dev: string, lossy: string[]): Omit<DiskInput, 'name'> | undefined {
  const what = `disk ${dev}`;
  const media = d.attrs['device'] ?? 'disk';
  if (media !== 'disk' && media !== 'cdrom') return drop(lossy, `${what} (a ${media}) is not kept: the spec has disks and CD-ROMs`);
  const type = d.attrs['type'] ?? 'file';
  const source = child(d, 'source');
  const path = type === 'file' ? source?.attrs['file'] : type === 'block' ? source?.attrs['dev'] : undefined;
  if (type !== 'file' && type !== 'block') return drop(lossy, `${what} is not kept: its source is of type ${type} (the spec keeps image files and block devices)`);
  if (path === undefined) return drop(lossy, `${what} is not kept: it has no medium`);
  if (!fits({ disks: [{ name: 'd', path }] })) return drop(lossy, `${what} is not kept: its path ${JSON.stringify(path)} has characters the spec does not allow`);
  const driver = child(d, 'driver');
  const format = driver?.attrs['type'] ?? 'raw';
  if (format !== 'qcow2' && format !== 'raw') return drop(lossy, `${what} is not kept: image format ${format} (the spec has qcow2 and raw; convert it with qemu-img)`);
  const cacheAttr = driver?.attrs['cache'] ?? 'writeback';
  const cache = CACHES.find((c) => c === cacheAttr) ?? 'writeback';
  if (cacheAttr !== cache && cacheAttr !== 'default') lossy.push(`${what}: cache mode ${cacheAttr} becomes writeback`);
  const busAttr = child(d, 'target')?.attrs['bus'] ?? 'virtio';
  let bus = BUSES[busAttr] ?? (media === 'cdrom' ? 'sata' : 'virtio');
  if (BUSES[busAttr] === undefined) lossy.push(`${what}: bus ${busAttr} becomes ${bus}`);
  const readOnly = child(d, 'readonly') !== undefined;
  if (readOnly && media === 'disk' && bus === 'sata') {
    bus = 'virtio';
    lossy.push(`${what}: a read-only ${busAttr} hard disk becomes virtio (QEMU cannot make an ATA disk read-only)`);
  }
  if (child(d, 'shareable') !== undefined) lossy.push(`${what}: <shareable/> is not kept`);
  for (const name of unknownChildren(d, [...QUIET, 'shareable'])) lossy.push(`${what}: <${name}> is not kept`);
  const order = intOf(child(d, 'boot')?.attrs['order']);
  return {
    path, format, media, bus, readOnly, cache,
    ...(order === undefined ? {} : { bootIndex: Math.min(order - 1, 99) }),
  };
}

function drop(lossy: string[], sentence: string): undefined {
  lossy.push(sentence);
  return undefined;
}
