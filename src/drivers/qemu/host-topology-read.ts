/**
 * Reads a host's CPU/memory topology and PCI devices from sysfs and procfs
 * into a HostTopologyFacts (the spec's checks and `polyvisor host show` run
 * on that). `root` is "/" on a real host and a fixture tree in tests
 * (test/fixtures/host-sysfs/). Only reads; anything missing (no NUMA, no
 * IOMMU, no hugepages, no pci.ids) is left out.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { parseCpuList, type HostHugepages, type HostMdevType, type HostNumaNode, type HostPciDevice, type HostTopologyFacts } from '../../spec/index.js';
import { parseCpuInfo, parsePciIds, parseSize } from './host-proc-parse.js';

const PAGE_DIRS = { '2M': 'hugepages-2048kB', '1G': 'hugepages-1048576kB' } as const;
/** Where distributions keep the PCI ID database (pciutils, hwdata). */
const PCI_IDS = ['usr/share/misc/pci.ids', 'usr/share/hwdata/pci.ids'];

const text = (p: string): Promise<string | undefined> => readFile(p, 'utf8').then((s) => s.trim(), () => undefined);
const list = (p: string): Promise<string[]> => readdir(p).then((xs) => xs.sort(), () => []);
const linkName = (p: string): Promise<string | undefined> => readlink(p).then((l) => path.basename(l), () => undefined);
const int = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
const kib = (re: RegExp, s: string | undefined): number | undefined => {
  const m = re.exec(s ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
};

export interface ReadHostOptions {
  /** Look vendor and device names up in the host's pci.ids (for the inventory; the start-time check does not need them). */
  names?: boolean;
}

export async function readHostTopology(root = '/', opts: ReadHostOptions = {}): Promise<HostTopologyFacts> {
  const sys = path.join(root, 'sys');
  const cpus = parseCpuList((await text(path.join(sys, 'devices/system/cpu/online'))) ?? '') ?? [];
  const [nodes, hugepages, pci, renderNodes, cpuinfo] = await Promise.all([
    readNodes(root, cpus),
    readPages(path.join(sys, 'kernel/mm/hugepages')),
    readPci(sys),
    list(path.join(root, 'dev/dri')).then((xs) => xs.filter((x) => /^renderD\d+$/.test(x)).map((x) => `/dev/dri/${x}`)),
    text(path.join(root, 'proc/cpuinfo')),
  ]);
  if (opts.names && pci.length) await addPciNames(root, pci);
  const cpu = cpuinfo === undefined ? undefined : parseCpuInfo(cpuinfo);
  return { cpus, nodes, hugepages, pci, renderNodes, ...(cpu ? { cpu } : {}) };
}

async function readPages(dir: string): Promise<HostNumaNode['hugepages']> {
  const out: HostNumaNode['hugepages'] = {};
  for (const [size, sub] of Object.entries(PAGE_DIRS) as Array<[keyof typeof PAGE_DIRS, string]>) {
    const total = int(await text(path.join(dir, sub, 'nr_hugepages')));
    const free = int(await text(path.join(dir, sub, 'free_hugepages')));
    if (total !== undefined && free !== undefined) out[size] = { total, free } satisfies HostHugepages;
  }
  return out;
}

async function readNodes(root: string, cpus: number[]): Promise<HostNumaNode[]> {
  const base = path.join(root, 'sys/devices/system/node');
  const ids = (await list(base)).map((n) => /^node(\d+)$/.exec(n)?.[1]).filter((x): x is string => x !== undefined).map(Number).sort((a, b) => a - b);
  if (!ids.length) {
    // A kernel without NUMA: one node holding every CPU and all memory.
    const info = await text(path.join(root, 'proc/meminfo'));
    const free = kib(/^MemFree:\s+(\d+) kB/m, info);
    return [{ id: 0, cpus, memoryBytes: kib(/^MemTotal:\s+(\d+) kB/m, info) ?? 0, ...(free === undefined ? {} : { freeBytes: free }), hugepages: await readPages(path.join(root, 'sys/kernel/mm/hugepages')) }];
  }
  return Promise.all(ids.map(async (id) => {
    const dir = path.join(base, `node${id}`);
    const [info, cpulist, distance, hugepages] = await Promise.all([
      text(path.join(dir, 'meminfo')), text(path.join(dir, 'cpulist')), text(path.join(dir, 'distance')), readPages(path.join(dir, 'hugepages')),
    ]);
    const free = kib(/MemFree:\s+(\d+) kB/, info);
    const distances = distance?.split(/\s+/).map(Number).filter((n) => Number.isInteger(n));
    return {
      id,
      cpus: parseCpuList(cpulist ?? '') ?? [],
      memoryBytes: kib(/MemTotal:\s+(\d+) kB/, info) ?? 0,
      ...(free === undefined ? {} : { freeBytes: free }),
      ...(distances?.length ? { distances } : {}),
      hugepages,
    };
  }));
}

async function readPci(sys: string): Promise<HostPciDevice[]> {
  const base = path.join(sys, 'bus/pci/devices');
  return Promise.all((await list(base)).map(async (address): Promise<HostPciDevice> => {
    const dir = path.join(base, address);
    const hex = async (f: string) => ((await text(path.join(dir, f))) ?? '').replace(/^0x/, '').toLowerCase();
    const [vendor, device, cls, driver, group, mdevTypes, node, vram] = await Promise.all([
      hex('vendor'), hex('device'), text(path.join(dir, 'class')), linkName(path.join(dir, 'driver')), linkName(path.join(dir, 'iommu_group')), readMdevTypes(dir),
      text(path.join(dir, 'numa_node')), text(path.join(dir, 'mem_info_vram_total')),
    ]);
    const iommuGroup = int(group);
    const numaNode = int(node);
    const memoryBytes = int(vram);
    return {
      address, vendor, device, class: cls ?? '',
      ...(driver === undefined ? {} : { driver }),
      ...(iommuGroup === undefined ? {} : { iommuGroup }),
      mdevTypes,
      ...(numaNode === undefined ? {} : { numaNode }),
      ...(memoryBytes ? { memoryBytes } : {}),
    };
  }));
}

async function readMdevTypes(dir: string): Promise<HostMdevType[]> {
  const base = path.join(dir, 'mdev_supported_types');
  return Promise.all((await list(base)).map(async (type): Promise<HostMdevType> => {
    const [name, available, description] = await Promise.all(['name', 'available_instances', 'description'].map((f) => text(path.join(base, type, f))));
    const fb = /framebuffer=(\d+[KMG]?)/i.exec(description ?? '')?.[1];
    const framebufferBytes = fb === undefined ? undefined : parseSize(fb);
    return {
      type, name: name ?? type, available: int(available) ?? 0,
      ...(description ? { description } : {}),
      ...(framebufferBytes === undefined ? {} : { framebufferBytes }),
    };
  }));
}

async function addPciNames(root: string, pci: HostPciDevice[]): Promise<void> {
  for (const rel of PCI_IDS) {
    const db = await readFile(path.join(root, rel), 'utf8').catch(() => undefined);
    if (db === undefined) continue;
    const names = parsePciIds(db, new Set(pci.map((p) => p.vendor)));
    for (const p of pci) {
      const v = names.get(p.vendor);
      if (!v) continue;
      p.vendorName = v.name;
      const d = v.devices.get(p.device);
      if (d !== undefined) p.deviceName = d;
    }
    return;
  }
}
