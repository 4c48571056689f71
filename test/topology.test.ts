/**
 * Spec v2 topology on real guests (QEMU, TCG, the busybox test guest, whose
 * Debian cloud kernel has CONFIG_NUMA): the guest sees its two NUMA nodes and
 * its sockets/cores/threads in sysfs, vCPU and emulator threads are pinned
 * after start (seen in /proc/PID/task/TID/status), and hugepage backing takes
 * pages the test reserves for it and gives back. Host checks refuse what this
 * host cannot give, naming its real values. Passthrough cannot run here: see
 * the goldens and sysfs fixtures in src/drivers/qemu/.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../src/client/index.js';
import type { VmSpecInput } from '../src/spec/index.js';
import { killQemusUnder, processesUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterEach(async () => {
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

const hostCpus = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
const lastCpu = Number(hostCpus.split(/[-,]/).pop());

/** Each QEMU thread: its name (debug-threads=on names vCPUs "CPU n/TCG") and allowed CPUs. */
function qemuThreads(pid: number): Array<{ tid: number; name: string; allowed: string }> {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
    return { tid: Number(t), name: /^Name:\s*(.*)$/m.exec(status)![1]!, allowed: /^Cpus_allowed_list:\s*(.*)$/m.exec(status)![1]! };
  });
}

describe('topology seen by a real guest (TCG)', () => {
  it('two NUMA nodes, 2 sockets × 2 cores, and vCPU/emulator pinning applied after start', async () => {
    const spec = guestSpec('numa', {
      cpu: { count: 4, topology: { sockets: 2, cores: 2 }, pinning: { vcpus: { 0: String(lastCpu), 1: '0', 2: String(lastCpu), 3: '0' }, emulator: '0' } },
      memory: { size: '256Mi', numa: [{ cpus: '0-1', memory: '128Mi' }, { cpus: '2-3', memory: '128Mi' }] },
    } as Partial<VmSpecInput>);
    const created = await d.client.createVm(spec);
    expect(created.spec.version).toBe(2);
    await d.client.action('numa', 'start');
    await waitForLine(d.client, 'numa', READY);

    const nodes = await guestShell(d.client, 'numa', 'for n in /sys/devices/system/node/node*; do echo "${n##*/} $(cat $n/cpulist) $(sed -n "s/.*MemTotal: *\\([0-9]*\\) kB/\\1/p" $n/meminfo)"; done');
    const rows = nodes.trim().split('\n').map((l) => l.split(' '));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([['node0', '0-1'], ['node1', '2-3']]);
    for (const r of rows) expect(Number(r[2])).toBeGreaterThan(64 * 1024); // each node holds most of its 128 MiB (the kernel keeps some)

    const topo = await guestShell(d.client, 'numa', 'for c in 0 1 2 3; do t=/sys/devices/system/cpu/cpu$c/topology; echo "$c $(cat $t/physical_package_id) $(cat $t/core_id) $(cat $t/thread_siblings_list)"; done');
    expect(topo.trim().split('\n')).toEqual(['0 0 0 0', '1 0 1 1', '2 1 0 2', '3 1 1 3']);

    const [pid] = processesUnder(d.stateDir);
    const threads = qemuThreads(pid!);
    const vcpu = (n: number) => threads.find((t) => t.name === `CPU ${n}/TCG`);
    expect([0, 1, 2, 3].map((n) => vcpu(n)?.allowed)).toEqual([String(lastCpu), '0', String(lastCpu), '0']);
    // Every other thread (main loop, RCU, workers) is on the emulator CPUs.
    const others = threads.filter((t) => !/^CPU \d+\/TCG$/.test(t.name));
    expect(others.length).toBeGreaterThan(0);
    expect(new Set(others.map((t) => t.allowed))).toEqual(new Set(['0']));

    // NUMA locality of its guest RAM on this one-node host: all of it local (the node holding it), at most its 256 MiB
    // (the two guest nodes' 128 MiB backends; not QEMU's 1 GiB TCG code buffer, heap or stacks).
    const r = await request({ socketPath: d.socket }, 'GET', '/metrics', undefined, { timeoutMs: limit('daemon') });
    const text = String(r.body);
    const onNode0 = Number(/^polyvisor_vm_numa_memory_bytes\{vm="numa",node="0"\} (\S+)$/m.exec(text)?.[1]);
    expect(onNode0).toBeGreaterThan(8 * 1024 * 1024); // the booted guest has touched more than 8 MiB
    expect(onNode0).toBeLessThanOrEqual(256 * 1024 * 1024);
    expect(text).toMatch(/^polyvisor_vm_numa_remote_ratio\{vm="numa"\} 0$/m);
    expect(text).not.toMatch(/^polyvisor_vm_numa_memory_bytes\{vm="numa",node="[1-9]/m);
  });

  it('a request this host cannot give is refused before QEMU runs, naming the host value', async () => {
    const count = hostCpus.split(',').reduce((a, r) => a + (r.includes('-') ? Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1 : 1), 0);
    await d.client.createVm(guestSpec('toobig', { cpu: { count: 1, pinning: { vcpus: { 0: '250' } } } } as Partial<VmSpecInput>));
    await expect(d.client.action('toobig', 'start')).rejects.toMatchObject({
      code: 'HOST_TOPOLOGY_UNFIT', status: 409,
      message: expect.stringContaining(`cpu.pinning.vcpus.0: host CPU 250 does not exist: this host has CPUs ${hostCpus} (${count} online)`),
    });
    expect((await d.client.getVm('toobig')).state).not.toBe('running'); // a failed start, as for any start QEMU never ran for
    expect(processesUnder(d.stateDir)).toEqual([]);
  });
});

describe('hugepage backing (the test reserves 2 MiB pages and gives them back)', () => {
  const NR = '/proc/sys/vm/nr_hugepages';
  const free2m = (): number => Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8'));
  let before: number | undefined;
  afterAll(() => {
    // QEMUs first (by PID, in removeAllVms), then the pages: a page still mapped cannot be freed.
    killQemusUnder(d.stateDir);
    if (before !== undefined) writeFileSync(NR, String(before));
  });

  it('a VM backed by 2M hugepages takes them at start (prealloc), and a short pool is refused with the host\'s numbers', async (ctx) => {
    before = Number(readFileSync(NR, 'utf8'));
    const want = before + 80;
    try {
      writeFileSync(NR, String(want));
    } catch (err) {
      ctx.skip(`cannot write ${NR}: ${(err as Error).message}`);
    }
    const got = Number(readFileSync(NR, 'utf8'));
    if (got < before + 64) ctx.skip(`the kernel reserved only ${got - before} of 80 hugepages (memory too fragmented)`);
    const freeBefore = free2m();

    await d.client.createVm(guestSpec('huge', { memory: { size: '128Mi', hugepages: { size: '2M' } } } as Partial<VmSpecInput>));
    await d.client.action('huge', 'start');
    await waitForLine(d.client, 'huge', READY);
    expect(freeBefore - free2m()).toBe(64); // 128 MiB = 64 pages, all taken at start
    const [pid] = processesUnder(d.stateDir);
    expect(readFileSync(`/proc/${pid}/smaps`, 'utf8')).toMatch(/memfd:pv-ram \(deleted\)|hugetlb|KernelPageSize:\s+2048 kB/);
    // NUMA locality counts hugetlb pages in their size: all 64 preallocated 2 MiB pages, on this host's one node.
    const metrics = String((await request({ socketPath: d.socket }, 'GET', '/metrics', undefined, { timeoutMs: limit('daemon') })).body);
    expect(metrics).toMatch(/^polyvisor_vm_numa_memory_bytes\{vm="huge",node="0"\} 134217728$/m);

    await d.client.createVm(guestSpec('short', { memory: { size: '1Gi', hugepages: { size: '2M' } } } as Partial<VmSpecInput>));
    await expect(d.client.action('short', 'start')).rejects.toMatchObject({
      code: 'HOST_TOPOLOGY_UNFIT',
      message: expect.stringContaining(`memory.hugepages: needs 512 free 2M hugepages, the host has ${free2m()} free of ${got}`),
    });

    await d.client.action('huge', 'kill');
    await removeAllVms(d);
    expect(free2m()).toBe(freeBefore); // given back when QEMU ends
  });
});
