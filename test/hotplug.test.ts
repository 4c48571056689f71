/**
 * CPU and memory hot-plug and the balloon on a running VM (issue 22), seen by
 * a real guest: the busybox test guest under TCG (Debian cloud kernel 6.1:
 * CONFIG_ACPI_HOTPLUG_CPU=y, CONFIG_ACPI_HOTPLUG_MEMORY=y,
 * CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE not set, virtio_balloon as a module the
 * guest loads). That kernel does not online hot-added vCPUs or memory blocks
 * by itself (no udev rule in the guest), so the test onlines them through
 * sysfs, as a distribution's udev rule would, and checks what the guest then
 * sees: /sys/devices/system/cpu/online and /proc/meminfo's MemTotal. One boot.
 * The guest starts with 256 MiB (max 512): at 128 MiB with DIMM slots its
 * kernel ran out of memory while booting (seen in the first run).
 * After the hot-add the VM is live-moved on the same host and to a second
 * daemon and back: each target QEMU must start with the source's boot layout
 * plus the hot-added vCPU and DIMM (drivers/qemu/argv-hotplugged.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmSpecInput } from '../src/spec/index.js';
import { MigrationClient, PlatformClient } from '../src/client/index.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { expectIntact, lastHb } from './helpers/memtest.js';
import { removeAllVms } from './helpers/isolate.js';
import { guestShell } from './helpers/shell.js';
import { guestSpec, READY, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  if (d) await removeAllVms(d);
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

const MIB = 1024 ** 2;
const memTotalKiB = async (vm: string, on = d): Promise<number> => Number(/MemTotal:\s+(\d+) kB/.exec(await sh(vm, 'grep MemTotal /proc/meminfo', on))![1]);
/**
 * A guest command's output without the memtest heartbeat lines the serial console interleaves with it.
 * Asked a second time when the first goes unanswered: once (1 run in 4) the first console command right after
 * a same-host move got no answer while the guest's heartbeat went on; not investigated yet (docs/topology.md).
 */
async function sh(vm: string, cmd: string, on = d): Promise<string> {
  const out = await guestShell(on.client, vm, cmd, 20_000).catch(() => guestShell(on.client, vm, cmd));
  return out.split(/\r?\n/).filter((l) => !l.includes('MEMTEST')).join('\n').trim();
}
const onlineCpus = (vm: string, on = d): Promise<string> => sh(vm, 'cat /sys/devices/system/cpu/online', on);
const peerToken = async (on: TestDaemon, name: string): Promise<string> => (await new PlatformClient({ endpoint: { socketPath: on.socket } }).createToken(name, 'peer')).token;

/** Polls the guest until `ok(value)` or the bounded wait ends; answers the last value. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('vm resize on a running guest (TCG)', () => {
  it('adds a vCPU and 128 MiB the guest sees, balloons down and up, refuses beyond max, and a vCPU the guest keeps', async () => {
    // memtest only verifies (rate 0): the guest's own check that no page changed across the move below.
    await d.client.createVm(guestSpec('hp', { cpu: { count: 1, max: 3 }, memory: { size: '256Mi', max: { size: '512Mi', slots: 4 } } } as Partial<VmSpecInput>, 'pv.memtest=32:0'));
    await d.client.action('hp', 'start');
    await waitForLine(d.client, 'hp', READY);
    expect(await onlineCpus('hp')).toBe('0');
    const mem0 = await memTotalKiB('hp');

    // Beyond the ceilings: refused with the code naming field, requested and max; the VM is unchanged.
    await expect(d.client.resizeVm('hp', { cpus: 4 })).rejects.toMatchObject({ code: 'RESIZE_BEYOND_MAX', status: 409, message: expect.stringContaining('cpus: requested 4, cpu.max of VM hp is 3') });
    await expect(d.client.resizeVm('hp', { memoryMiB: 1024 })).rejects.toMatchObject({ code: 'RESIZE_BEYOND_MAX', message: expect.stringContaining('memory: requested 1024 MiB, memory.max of VM hp is 512 MiB') });
    await expect(d.client.resizeVm('hp', { memoryMiB: 300 })).rejects.toMatchObject({ code: 'RESIZE_INVALID', message: expect.stringContaining('whole 128 MiB blocks') });
    expect((await d.client.getVm('hp')).spec).toMatchObject({ cpu: { count: 1 }, memory: 256 * MIB });
    expect(await onlineCpus('hp')).toBe('0');

    // Hot-add: one vCPU and one 128 MiB DIMM; the spec follows.
    const r = await d.client.resizeVm('hp', { cpus: 2, memoryMiB: 384 });
    expect(r).toMatchObject({ vm: 'hp', live: true, cpus: 2, maxCpus: 3, memoryMiB: 384, maxMemoryMiB: 512, changed: ['cpus', 'memory'] });
    expect((await d.client.getVm('hp')).spec).toMatchObject({ cpu: { count: 2 }, memory: 384 * MIB });

    // The guest has the vCPU (present, offline until onlined) and the memory blocks (offline until onlined).
    const present = await until(() => sh('hp', 'cat /sys/devices/system/cpu/present'), (v) => v === '0-1');
    expect(present).toBe('0-1');
    await guestShell(d.client, 'hp', 'echo 1 > /sys/devices/system/cpu/cpu1/online');
    expect(await onlineCpus('hp')).toBe('0-1');
    await guestShell(d.client, 'hp', 'for f in /sys/devices/system/memory/memory*/state; do grep -q offline $f && echo online > $f; done');
    const mem1 = await memTotalKiB('hp');
    expect(mem1 - mem0).toBeGreaterThanOrEqual(120 * 1024); // 128 MiB less the struct pages of the new block
    expect(mem1 - mem0).toBeLessThanOrEqual(128 * 1024);

    // Balloon: down to 256 MiB and the guest's MemTotal drops, then back to all of it.
    const b = await d.client.resizeVm('hp', { balloonMiB: 256 });
    expect(b.changed).toEqual(['balloon']);
    const low = await until(() => memTotalKiB('hp'), (v) => v < mem1 - 80 * 1024);
    expect(low).toBeLessThan(mem1 - 80 * 1024);
    await d.client.resizeVm('hp', { balloonMiB: 384 });
    const back = await until(() => memTotalKiB('hp'), (v) => v > mem1 - 4 * 1024);
    expect(back).toBeGreaterThan(mem1 - 4 * 1024);
    expect((await d.client.resizeVm('hp', { balloonMiB: 384 })).balloonMiB).toBe(384);

    // Memory does not shrink live.
    await expect(d.client.resizeVm('hp', { memoryMiB: 256 })).rejects.toMatchObject({ code: 'RESIZE_INVALID', message: expect.stringContaining('shrinks only while it is stopped') });
    // Live moves of the grown VM (1 boot vCPU + 1 hot-added, 256 MiB + a 128 MiB DIMM): they used to fail, the
    // target booting 2 vCPUs and 384 MiB from the spec (its QEMU exited on the stream). 384 MiB is a multiple of
    // 256 KiB, so QEMU 7.2's TCG dirty-bitmap guard (docs/migration.md) needs forceUnsafe. Checked after each
    // move: the VM runs in the new QEMU, memtest finds its pages intact, and the new QEMU reports the hot-added
    // vCPU and DIMM (a resize to what the VM has changes nothing). The guest's own view after a move is not
    // asserted: through the serial shell it was unreliable under this forced-unsafe TCG setup (docs/topology.md).
    const hb0 = lastHb(await d.client.serialLog('hp', 4 * 1024 * 1024));
    const pid0 = (await d.client.getVm('hp')).runtime!.pid;
    const moved = await new MigrationClient({ endpoint: { socketPath: d.socket } }).migrate('hp', { forceUnsafe: true });
    expect(moved).toMatchObject({ state: 'running', sourcePid: pid0 });
    expect(moved.targetPid).not.toBe(pid0);
    expect((await d.client.getVm('hp')).runtime!.pid).toBe(moved.targetPid);
    await expectIntact(d.client, 'hp', hb0);
    await expect(d.client.resizeVm('hp', { cpus: 2, memoryMiB: 384 })).resolves.toMatchObject({ live: true, cpus: 2, memoryMiB: 384, changed: [] });

    // Host to host and back (a second daemon on 127.0.0.2): the layout travels in the move's request, and the
    // daemon that received the VM hands it on again, read from its own QEMU.
    const peer = await startDaemon({ extraArgs: ['--listen', '127.0.0.2:0', '--host-name', 'host-b'] });
    try {
      const hb1 = lastHb(await d.client.serialLog('hp', 4 * 1024 * 1024));
      const there = await new MigrationClient({ endpoint: { socketPath: d.socket } }).migrate('hp', { forceUnsafe: true, target: { url: peer.url, token: await peerToken(peer, 'from-a') } });
      expect(there.state).toBe('running');
      expect((await peer.client.getVm('hp')).spec).toMatchObject({ cpu: { count: 2 }, memory: 384 * MIB });
      await expectIntact(peer.client, 'hp', hb1);
      await expect(peer.client.resizeVm('hp', { cpus: 2, memoryMiB: 384 })).resolves.toMatchObject({ changed: [] });
      const hb2 = lastHb(await peer.client.serialLog('hp', 4 * 1024 * 1024));
      const back = await new MigrationClient({ endpoint: { socketPath: peer.socket } }).migrate('hp', { forceUnsafe: true, target: { url: d.url, token: await peerToken(d, 'from-b') } });
      expect(back.state).toBe('running');
      await expectIntact(d.client, 'hp', hb2);
      await expect(d.client.resizeVm('hp', { cpus: 2, memoryMiB: 384 })).resolves.toMatchObject({ changed: [] });
    } finally {
      await removeAllVms(peer).catch(() => undefined);
      await peer.stop();
      killQemusUnder(peer.stateDir);
    }

    // Taking the hot-added vCPU out: this guest does not eject it (not even offlined first; seen in two runs; here after the moves, without offlining),
    // so the bounded wait ends in HOTPLUG_REFUSED and the spec keeps the 2 vCPUs QEMU still has.
    await expect(d.client.resizeVm('hp', { cpus: 1 })).rejects.toMatchObject({ code: 'HOTPLUG_REFUSED', status: 409, message: expect.stringContaining('did not release vCPU pv-cpu-0-0-1-0 within 30 s') });
    expect((await d.client.getVm('hp')).spec).toMatchObject({ cpu: { count: 2 }, memory: 384 * MIB });

    // Stopped: the spec alone changes, and the next start has what it says.
    await d.client.action('hp', 'kill');
    const s = await d.client.resizeVm('hp', { cpus: 3, memoryMiB: 512 });
    expect(s).toMatchObject({ live: false, cpus: 3, memoryMiB: 512, balloonMiB: null });
    await expect(d.client.resizeVm('hp', { balloonMiB: 100 })).rejects.toMatchObject({ code: 'RESIZE_INVALID' });
  });
});
