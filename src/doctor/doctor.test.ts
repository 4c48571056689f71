import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fix, parseVersion, type DoctorDeps } from './index.js';
import { confinementChecks } from './confinement-checks.js';
import { hostChecks } from './host-checks.js';
import { listenerChecks } from './listener-checks.js';
import { accelFinding, cpuVirtualization } from './kvm-advice.js';
import { networkChecks, parseTcpMem } from './network-checks.js';

describe('doctor helpers', () => {
  it('reads QEMU and qemu-img versions', () => {
    expect(parseVersion('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)')).toEqual([7, 2, 19]);
    expect(parseVersion('qemu-img version 9.0.0 (v9.0.0)')).toEqual([9, 0, 0]);
    expect(parseVersion('nothing')).toBeNull();
  });

  it('prints fix commands the way a user would type them', () => {
    expect(fix('polyvisor', 'disk', 'detach', 'web', 'data').command).toBe('polyvisor disk detach web data');
    expect(fix('rm', '-r', '--', "/tmp/a b/it's").command).toBe(`rm -r -- '/tmp/a b/it'\\''s'`);
    expect(fix('kill', '42').argv).toEqual(['kill', '42']);
  });
});

describe('migration-buffers check', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const d of made) await rm(d, { recursive: true, force: true });
  });
  const deps = async (rmem: string | null): Promise<DoctorDeps> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-procsys-'));
    made.push(dir);
    if (rmem !== null) {
      await mkdir(path.join(dir, 'net', 'ipv4'), { recursive: true });
      await writeFile(path.join(dir, 'net', 'ipv4', 'tcp_rmem'), rmem);
    }
    return { procSysDir: dir } as DoctorDeps;
  };

  it('says nothing more than ok for the kernel default, and offers the default back when a host raised it', async () => {
    expect(parseTcpMem('4096\t131072\t6291456\n')).toEqual([4096, 131072, 6291456]);
    expect(parseTcpMem('4096 x 1')).toBeNull();
    expect(await networkChecks(await deps('4096\t131072\t6291456\n'))).toMatchObject([{ check: 'migration-buffers', severity: 'ok', fix: null }]);
    const [f] = await networkChecks(await deps('4096\t131072\t33554432\n'));
    expect(f).toMatchObject({ severity: 'info', subject: 'net.ipv4.tcp_rmem', message: expect.stringContaining('32 MiB') });
    expect(f!.fix!.argv).toEqual(['sysctl', '-w', 'net.ipv4.tcp_rmem=4096 131072 6291456']);
    expect(f!.fix!.command).toBe(`sysctl -w 'net.ipv4.tcp_rmem=4096 131072 6291456'`);
    expect(await networkChecks(await deps(null))).toEqual([]);
  });
});

describe('KVM advice follows the CPU flags', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const d of made) await rm(d, { recursive: true, force: true });
  });
  const cpuinfo = (flags: string) => `processor\t: 0\nvendor_id\t: X\nflags\t\t: fpu vme de pse ${flags} sse2\n\nprocessor\t: 1\nflags\t\t: fpu vme de pse ${flags} sse2\n`;
  const tcg = { accel: 'tcg' as const, reason: '/dev/kvm missing (no KVM kernel module, or no hardware virtualization)', kvmTried: false };

  it('reads vmx, svm and the hypervisor flag from /proc/cpuinfo text', () => {
    expect(cpuVirtualization(cpuinfo('vmx'))).toEqual({ flag: 'vmx', guest: false });
    expect(cpuVirtualization(cpuinfo('svm hypervisor'))).toEqual({ flag: 'svm', guest: true });
    expect(cpuVirtualization(cpuinfo('hypervisor'))).toEqual({ flag: null, guest: true });
    expect(cpuVirtualization('Processor\t: ARMv7\nFeatures\t: half thumb\n')).toBeNull();
  });

  it('no vmx/svm: the CPU or the outer hypervisor must offer it, TCG meanwhile, and never modprobe', () => {
    const bare = accelFinding(tcg, { cpuinfo: cpuinfo('lm'), kvmDevice: false });
    expect(bare).toMatchObject({ check: 'accel', severity: 'warning', fix: null });
    expect(bare.message).toMatch(/this CPU offers no hardware virtualization \(no vmx or svm flag/);
    expect(bare.message).toMatch(/firmware/);
    expect(bare.message).toMatch(/Meanwhile guests run under TCG/);
    const nested = accelFinding(tcg, { cpuinfo: cpuinfo('lm hypervisor'), kvmDevice: false });
    expect(nested.message).toMatch(/the VM this host runs in offers no hardware virtualization/);
    expect(nested.message).toMatch(/nested virtualization .* outer hypervisor/);
    expect(nested.fix).toBeNull();
    for (const f of [bare, nested]) expect(f.message).not.toMatch(/modprobe/);
  });

  it('vmx or svm but no /dev/kvm: load kvm_intel or kvm_amd', () => {
    expect(accelFinding(tcg, { cpuinfo: cpuinfo('vmx'), kvmDevice: false }).fix!.argv).toEqual(['modprobe', 'kvm_intel']);
    expect(accelFinding(tcg, { cpuinfo: cpuinfo('svm hypervisor'), kvmDevice: false }).fix!.argv).toEqual(['modprobe', 'kvm_amd']);
  });

  it('KVM device present or tried, or no flags to read: the probe reason, no module to load', () => {
    const tried = { accel: 'tcg' as const, reason: 'KVM does not work: no output (nested virtualization?); using TCG', kvmTried: true };
    expect(accelFinding(tried, { cpuinfo: cpuinfo('vmx'), kvmDevice: true })).toMatchObject({ fix: null, message: expect.stringContaining('KVM does not work') });
    expect(accelFinding(tcg, { cpuinfo: cpuinfo('vmx'), kvmDevice: true }).fix).toBeNull();
    expect(accelFinding(tcg, { cpuinfo: null, kvmDevice: false }).fix).toBeNull();
    expect(accelFinding({ accel: 'kvm', reason: 'KVM works', kvmTried: true }, { cpuinfo: cpuinfo('vmx'), kvmDevice: true })).toMatchObject({ severity: 'ok', fix: null });
  });

  it('the host check reads the injected cpuinfo file and KVM device path', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-cpuinfo-'));
    made.push(dir);
    const qemu = path.join(dir, 'qemu');
    await writeFile(qemu, '#!/bin/sh\necho "QEMU emulator version 9.1.0"\n', { mode: 0o755 });
    await writeFile(path.join(dir, 'cpuinfo'), cpuinfo('svm'));
    const deps = { qemuBinary: qemu, qemuImgBinary: qemu, probeAccel: async () => tcg, cpuinfoFile: path.join(dir, 'cpuinfo'), kvmDevice: path.join(dir, 'kvm') } as unknown as DoctorDeps;
    const accel = (await hostChecks(deps, new AbortController().signal)).find((f) => f.check === 'accel')!;
    expect(accel.fix!.command).toBe('modprobe kvm_amd');
    await writeFile(path.join(dir, 'cpuinfo'), cpuinfo('hypervisor'));
    const none = (await hostChecks(deps, new AbortController().signal)).find((f) => f.check === 'accel')!;
    expect(none.fix).toBeNull();
    expect(none.message).toMatch(/outer hypervisor/);
  });
});

describe('cgroups check', () => {
  it('ok with the hierarchy named, a warning with the reason and a fix when none can be used, nothing when not asked', async () => {
    const base = {} as Parameters<typeof confinementChecks>[0];
    expect(await confinementChecks({ ...base, probeCgroups: async () => 'v1' as const })).toMatchObject([{ check: 'cgroups', severity: 'ok', subject: 'cgroup v1', fix: null }]);
    const bad = await confinementChecks({ ...base, probeCgroups: async () => ({ unavailable: 'no cgroup v2 at /x' }) });
    expect(bad).toMatchObject([{ check: 'cgroups', severity: 'warning', message: expect.stringContaining('no cgroup v2 at /x'), fix: { argv: ['mount', '-t', 'cgroup2', 'none', '/sys/fs/cgroup'] } }]);
    expect(await confinementChecks(base)).toEqual([]);
  });

  it('qemu-user: per-vm is ok with its range; root is a warning for a root daemon, info for one that is not; a closed folder above the state is critical; an overlapping daemon is a warning naming it', async () => {
    const base = {} as Parameters<typeof confinementChecks>[0];
    const perVm = { mode: 'per-vm' as const, base: 2_000_000_000, count: 10, overlaps: [], closed: null };
    const ok = await confinementChecks({ ...base, qemuUser: async () => perVm });
    expect(ok).toMatchObject([{ check: 'qemu-user', severity: 'ok', subject: 'per-vm', message: expect.stringContaining('2000000001-2000000010') }]);
    const root = await confinementChecks({ ...base, qemuUser: async () => ({ mode: 'root' as const, uid: 0 }) });
    expect(root).toMatchObject([{ check: 'qemu-user', severity: 'warning', subject: 'root', message: expect.stringContaining('qemuUser: per-vm') }]);
    const user = await confinementChecks({ ...base, qemuUser: async () => ({ mode: 'root' as const, uid: 1000 }) });
    expect(user).toMatchObject([{ check: 'qemu-user', severity: 'info', subject: 'uid 1000', message: expect.stringContaining('not root') }]);
    const closed = await confinementChecks({ ...base, qemuUser: async () => ({ ...perVm, closed: { folder: '/root', mode: 0o700, owner: '0:0', on: '/root/pv/.state' } }) });
    expect(closed).toMatchObject([{ check: 'qemu-user', severity: 'critical', subject: '/root', message: expect.stringMatching(/cannot pass through \/root \(mode 700.*\/var\/lib\/polyvisor/) }]);
    const other = { pid: 42, stateDir: '/var/lib/other', base: 2_000_000_005, count: 10 };
    const overlap = await confinementChecks({ ...base, qemuUser: async () => ({ ...perVm, overlaps: [other] }) });
    expect(overlap).toMatchObject([{ check: 'qemu-user', severity: 'warning', subject: '/var/lib/other', message: expect.stringContaining('another qemuUidBase') }]);
    expect(overlap[0]!.message).toContain('pid 42');
  });

  it('apparmor: ok when profiles can be loaded; info with how to enable it when not (kernel, securityfs, parser); nothing when not asked', async () => {
    const base = {} as Parameters<typeof confinementChecks>[0];
    expect(await confinementChecks({ ...base, probeAppArmor: async () => ({ loadable: true as const }) })).toMatchObject([{ check: 'apparmor', severity: 'ok', fix: null }]);
    const kernel = await confinementChecks({ ...base, probeAppArmor: async () => ({ loadable: false as const, missing: 'kernel' as const, reason: 'the kernel has no AppArmor (no /sys/module/apparmor/parameters/enabled)' }) });
    expect(kernel).toMatchObject([{ check: 'apparmor', severity: 'info', fix: null, message: expect.stringContaining('apparmor=1 security=apparmor') }]);
    expect(kernel[0]!.message).toContain('the kernel has no AppArmor');
    const parser = await confinementChecks({ ...base, probeAppArmor: async () => ({ loadable: false as const, missing: 'parser' as const, reason: 'apparmor_parser is not installed' }) });
    expect(parser).toMatchObject([{ severity: 'info', fix: { argv: ['apt-get', 'install', 'apparmor'] } }]);
    const fs = await confinementChecks({ ...base, probeAppArmor: async () => ({ loadable: false as const, missing: 'securityfs' as const, reason: 'x' }) });
    expect(fs).toMatchObject([{ fix: { argv: ['mount', '-t', 'securityfs', 'securityfs', '/sys/kernel/security'] } }]);
  });

  it('warns about plain HTTP beyond loopback, and only there', async () => {
    const at = (listen: string, tls: boolean) => listenerChecks({ apiListener: { listen, tls } } as DoctorDeps);
    expect(await at('0.0.0.0:8006', false)).toMatchObject([{ check: 'api-listener', severity: 'warning', message: expect.stringContaining('plain HTTP') }]);
    expect(await at('192.0.2.1:8006', true)).toMatchObject([{ severity: 'ok', message: expect.stringContaining('HTTPS') }]);
    expect(await at('127.0.0.1:8006', false)).toMatchObject([{ severity: 'ok', message: expect.stringContaining('loopback only') }]);
    expect(await at('[::1]:8006', false)).toMatchObject([{ severity: 'ok' }]);
    expect(await at('off', false)).toEqual([]);
  });
});
