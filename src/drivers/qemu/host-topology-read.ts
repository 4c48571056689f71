/**
 * Reads a host's CPU/memory topology and PCI devices from sysfs and procfs
 * into a HostTopologyFacts (the spec's checks run on that). `root` is "/" on
 * a real host and a fixture tree in tests (test/fixtures/host-sysfs/). Only
 * reads; anything missing (no NUMA, no IOMMU, no hugepages) is left out.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { parseCpuList, type HostHugepages, type HostMdevType, type HostNumaNode, type HostPciDevice, type HostTopologyFacts } from '../../spec/index.js';

const PAGE_DIRS = { '2M': 'hugepages-2048kB', '1G': 'hugepages-1048576kB' } as const;

const text = (p: string): Promise<string | undefined> => readFile(p, 'utf8').then((s) => s.trim(), () => undefined);
const list = (p: string): Promise<string[]> => readdir(p).then((xs) => xs.sort(), () => []);
const linkName = (p: string): Promise<string | undefined> => readlink(p).then((l) => path.basename(l), () => undefined);
const int = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

export async function readHostTopology(root = '/'): Promise<HostTopologyFacts> {
  const sys = path.join(root, 'sys');
  const cpus = parseCpuList((await text(path.join(sys, 'devices/system/cpu/online'))) ?? '') ?? [];
  const [nodes, hugepages, pci, renderNodes] = await Promise.all([
    readNodes(root, cpus),
    readPages(path.join(sys, 'kernel/mm/hugepages')),
    readPci(sys),
    list(path.join(root, 'dev/dri')).then((xs) => xs.filter((x) => /^renderD\d+$/.test(x)).map((x) => `/dev/dri/${x}`)),
  ]);
  return { cpus, nodes, hugepages, pci, renderNodes };
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
    const mem = /^MemTotal:\s+(\d+) kB/m.exec((await text(path.join(root, 'proc/meminfo'))) ?? '');
    return [{ id: 0, cpus, memoryBytes: mem ? Number(mem[1]) * 1024 : 0, hugepages: await readPages(path.join(root, 'sys/kernel/mm/hugepages')) }];
  }
  return Promise.all(ids.map(async (id) => {
    const dir = path.join(base, `node${id}`);
    const mem = /MemTotal:\s+(\d+) kB/.exec((await text(path.join(dir, 'meminfo'))) ?? '');
    return {
      id,
      cpus: parseCpuList((await text(path.join(dir, 'cpulist'))) ?? '') ?? [],
      memoryBytes: mem ? Number(mem[1]) * 1024 : 0,
      hugepages: await readPages(path.join(dir, 'hugepages')),
    };
  }));
}

async function readPci(sys: string): Promise<HostPciDevice[]> {
  const base = path.join(sys, 'bus/pci/devices');
  return Promise.all((await list(base)).map(async (address) => {
    const dir = path.join(base, address);
    const hex = async (f: string) => ((await text(path.join(dir, f))) ?? '').replace(/^0x/, '').toLowerCase();
    const [vendor, device, cls, driver, group, mdevTypes] = await Promise.all([
      hex('vendor'), hex('device'), text(path.join(dir, 'class')), linkName(path.join(dir, 'driver')), linkName(path.join(dir, 'iommu_group')), readMdevTypes(dir),
    ]);
    const iommuGroup = int(group);
    return { address, vendor, device, class: cls ?? '', ...(driver === undefined ? {} : { driver }), ...(iommuGroup === undefined ? {} : { iommuGroup }), mdevTypes };
  }));
}

async function readMdevTypes(dir: string): Promise<HostMdevType[]> {
  const base = path.join(dir, 'mdev_supported_types');
  return Promise.all((await list(base)).map(async (type) => ({
    type,
    name: (await text(path.join(base, type, 'name'))) ?? type,
    available: int(await text(path.join(base, type, 'available_instances'))) ?? 0,
  })));
}
