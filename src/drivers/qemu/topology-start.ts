/**
 * What starting a VM with spec v2 topology needs beyond its argv: the check
 * against this host (before QEMU runs: pinned CPUs, host nodes, free
 * hugepages, PCI devices and their IOMMU groups) and vCPU/emulator/iothread
 * pinning after it runs, from QMP's thread ids, with `taskset -p -c LIST TID`
 * (sched_setaffinity; Node has no binding). QEMU's own seccomp sandbox denies
 * it affinity calls, so the daemon does it from outside.
 */
import { readdir } from 'node:fs/promises';
import type { QmpClient } from '../../qmp/index.js';
import { PolyvisorError, run } from '../../shared/index.js';
import { checkAgainstHost, type ResolvedDevices, type VmSpec } from '../../spec/index.js';
import { readHostTopology } from './host-topology-read.js';
import { pciInUse } from './pci-in-use.js';

/** Whether the spec asks for anything only a host check can vouch for. */
export function needsHostCheck(spec: VmSpec): boolean {
  const lay = spec.memoryLayout;
  return spec.cpu.pinning !== undefined || spec.devices !== undefined || lay?.hugepages !== undefined
    || (lay?.numa ?? []).some((n) => n.hostNodes !== undefined);
}

/**
 * Throws HOST_TOPOLOGY_UNFIT listing every field that does not fit (details:
 * the FieldProblems); returns the PCI addresses selectors resolved to.
 * `inUse`: PCI addresses other VMs of this host hold (default: the vfio-pci
 * devices on the command lines of this host's running QEMUs, when the spec has devices).
 */
export async function checkTopologyOnHost(spec: VmSpec, opts: { sysRoot?: string; inUse?: ReadonlySet<string> } = {}): Promise<ResolvedDevices | undefined> {
  if (!needsHostCheck(spec)) return undefined;
  const host = await readHostTopology(opts.sysRoot ?? '/');
  const inUse = opts.inUse ?? (spec.devices ? await pciInUse(opts.sysRoot ?? '/') : undefined);
  const { problems, devices } = checkAgainstHost(spec, host, inUse);
  if (problems.length) {
    throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `VM ${spec.name} does not fit this host: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: problems });
  }
  return devices;
}

interface CpuInfoFast {
  'cpu-index': number;
  'thread-id': number;
}

export interface AppliedPinning {
  /** TID → the host CPU list it was pinned to. */
  threads: Record<number, string>;
}

/** Pins a running QEMU's threads as spec.cpu.pinning says. vCPUs hot-plugged later start unpinned (see docs/topology.md). */
export async function applyPinning(qmp: QmpClient, spec: VmSpec, pid: number, signal?: AbortSignal): Promise<AppliedPinning> {
  const p = spec.cpu.pinning;
  const threads: Record<number, string> = {};
  if (!p) return { threads };
  const vcpus = await qmp.execute<CpuInfoFast[]>('query-cpus-fast', undefined, { signal });
  const vcpuTids = new Set(vcpus.map((v) => v['thread-id']));
  const iothreads = p.iothreads === undefined ? [] : await qmp.execute<Array<{ 'thread-id': number }>>('query-iothreads', undefined, { signal });
  const ioTids = new Set(iothreads.map((t) => t['thread-id']));
  for (const v of vcpus) {
    const list = p.vcpus?.[String(v['cpu-index'])];
    if (list !== undefined) threads[v['thread-id']] = list;
  }
  if (p.iothreads !== undefined) for (const t of ioTids) threads[t] = p.iothreads;
  if (p.emulator !== undefined) {
    const all = (await readdir(`/proc/${pid}/task`)).map(Number);
    for (const tid of all) if (!vcpuTids.has(tid) && !ioTids.has(tid)) threads[tid] = p.emulator;
  }
  for (const [tid, list] of Object.entries(threads)) {
    const r = await run('taskset', ['-p', '-c', list, tid], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
    if (r.code !== 0) {
      throw new PolyvisorError('HOST_TOPOLOGY_UNFIT', `VM ${spec.name}: pinning thread ${tid} to host CPUs ${list} failed: ${r.stderr.trim() || `taskset exited with ${r.code}`}`);
    }
  }
  return { threads };
}
