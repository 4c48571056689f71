/**
 * Golden tests: spec + the VM's files → its AppArmor profile, in
 * test/golden/apparmor/NAME.profile. `UPDATE_GOLDEN=1 npx vitest run --project
 * unit src/drivers/qemu/apparmor-profile.test.ts` rewrites them; review the
 * diff. This host's kernel has no AppArmor, so nothing is loaded here
 * (apparmor-load.test.ts drives the loader with a stand-in parser); where
 * Debian's `apparmor` package is installed, each golden profile is compiled
 * by the real apparmor_parser without loading it (-Q -K -T -S), which refuses
 * any syntax error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSpec, type VmSpecInput } from '../../spec/index.js';
import { aaPath, appArmorProfile, type AppArmorProfileInput } from './apparmor-profile.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'golden', 'apparmor');
const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const DIR = `/var/lib/polyvisor/vms/${ID}`;
const KERNEL = { kernel: '/srv/guest/vmlinuz', initrd: '/srv/guest/initrd.img' };
const QEMU = '/usr/bin/qemu-system-x86_64';

const input = (spec: VmSpecInput, extra: Partial<AppArmorProfileInput> = {}): AppArmorProfileInput => {
  const s = validateSpec(spec);
  return { vmId: ID, spec: s, vmDir: DIR, qemuBinary: QEMU, accel: 'tcg', diskPaths: Object.fromEntries(s.disks.map((d) => [d.name, d.path ?? `${DIR}/${d.name}.qcow2`])), ...extra };
};

const cases: Array<[string, AppArmorProfileInput]> = [
  ['direct-kernel-tcg', input({ name: 'tiny', memory: '128Mi', boot: KERNEL })],
  ['disks-pool-library-cdrom-kvm', input({
    name: 'web', memory: '1Gi',
    disks: [
      { name: 'root', path: '/var/lib/polyvisor/pools/fast/web-root.qcow2' },
      { name: 'data', size: '10Gi' },
      { name: 'seed', path: '/srv/images/config.raw', format: 'raw', readOnly: true },
      { name: 'install', path: '/var/lib/polyvisor/library/debian-12.iso', media: 'cdrom' },
    ],
  }, { accel: 'kvm', backingFiles: ['/var/lib/polyvisor/library/debian-12-genericcloud.qcow2'] })],
  ['uefi-tap-passthrough-virgl', input({
    name: 'gpu', machine: { type: 'q35' }, memory: '4Gi', boot: { firmware: 'uefi' },
    disks: [{ name: 'root', size: '20Gi' }],
    networks: [{ name: 'net0', network: 'lab' }, { name: 'user' }],
    devices: { hostdev: [{ pci: '0000:03:00.0' }], gpu: { kind: 'paravirtual' } },
  }, { accel: 'kvm', firmwareCode: '/usr/share/OVMF/OVMF_CODE_4M.fd', vfioGroups: [14], pciDevices: ['0000:03:00.0'] })],
  // a pool folder an admin named with a space and glob characters (spec paths cannot have them; pool paths can)
  ['odd-paths-escaped', input({ name: 'odd', memory: '128Mi', boot: KERNEL, disks: [{ name: 'root', path: '/srv/root.qcow2' }] }, { diskPaths: { root: '/srv/my pool/root[1]*.qcow2' } })],
];

describe('appArmorProfile golden files', () => {
  for (const [name, i] of cases) {
    it(name, () => {
      const text = appArmorProfile(i);
      const file = path.join(GOLDEN, `${name}.profile`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('what a profile lets QEMU touch', () => {
  /** Every file rule of a profile: its path and permissions (abstractions and network/signal rules aside). */
  const fileRules = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => /^("?\/|@\{PROC\})/.test(l))
    .map((l) => { const m = /^("(?:[^"\\]|\\.)*"|\S+)\s+([a-z]+),/.exec(l)!; return { path: m[1]!.replace(/^"|"$/g, ''), perms: m[2]! }; });

  it('writes only its own directory, its writable disks and the devices it was given', () => {
    for (const [name, i] of cases) {
      const writable = fileRules(appArmorProfile(i)).filter((r) => r.perms.includes('w')).map((r) => r.path);
      const allowed = (p: string) => p.startsWith(`${DIR}/`) || Object.entries(i.diskPaths ?? {}).some(([d, f]) => p === f.replace(/[\\*?[\]{}^]/g, (c) => `\\${c}`) && !i.spec.disks.find((x) => x.name === d)!.readOnly && i.spec.disks.find((x) => x.name === d)!.media === 'disk')
        || ['/dev/kvm', '/dev/net/tun', '/dev/vfio/vfio', '@{PROC}/@{pid}/task/*/comm'].includes(p) || /^\/dev\/vfio\/\d+$/.test(p) || p.startsWith('/sys/bus/pci/devices/0000:03:00.0/') || p.startsWith('/sys/devices/pci*/**/0000:03:00.0/') || p === '/dev/dri/renderD128';
      for (const p of writable) expect(allowed(p), `${name}: ${p} writable`).toBe(true);
    }
  });

  it('gives /dev/kvm under KVM only, the tun device only with a tap NIC, VFIO only for passed devices', () => {
    const tcg = appArmorProfile(cases[0]![1]);
    expect(tcg).not.toContain('/dev/kvm');
    expect(tcg).not.toContain('/dev/net/tun');
    expect(tcg).not.toContain('/dev/vfio');
    expect(appArmorProfile(cases[1]![1])).toContain('/dev/kvm rw,');
    const gpu = appArmorProfile(cases[2]![1]);
    expect(gpu).toContain('/dev/net/tun rw,');
    expect(gpu).toContain('/dev/vfio/14 rw,');
  });

  it('reads an ISO, a read-only disk and backing images, and may not write them', () => {
    const rules = fileRules(appArmorProfile(cases[1]![1]));
    expect(rules).toContainEqual({ path: '/var/lib/polyvisor/library/debian-12.iso', perms: 'rk' });
    expect(rules).toContainEqual({ path: '/srv/images/config.raw', perms: 'rk' });
    expect(rules).toContainEqual({ path: '/var/lib/polyvisor/library/debian-12-genericcloud.qcow2', perms: 'rk' });
    expect(rules).toContainEqual({ path: '/var/lib/polyvisor/pools/fast/web-root.qcow2', perms: 'rwk' });
  });

  it('escapes AppArmor glob characters and refuses what cannot be written safely', () => {
    expect(aaPath('/srv/my images/root[1]*.qcow2')).toBe('"/srv/my images/root\\[1\\]\\*.qcow2"');
    expect(() => aaPath('relative')).toThrow();
    expect(() => aaPath('/a"b')).toThrow();
    expect(() => aaPath('/a\nb')).toThrow();
    expect(() => appArmorProfile({ ...cases[0]![1], vmId: '../x' })).toThrow(/not a uuid/);
    expect(() => appArmorProfile({ ...cases[0]![1], pciDevices: ['../../etc'] })).toThrow(/bad PCI address/);
  });

  it('is pure: same input, same text', () => {
    expect(appArmorProfile(cases[2]![1])).toBe(appArmorProfile(cases[2]![1]));
  });
});

const PARSER = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => existsSync(p));

describe('the real apparmor_parser compiles every golden profile (without loading it)', () => {
  it.skipIf(!PARSER)('compiles (the apparmor package: apt-get install apparmor)', () => {
    for (const [name] of cases) {
      const r = spawnSync(PARSER!, ['-Q', '-K', '-T', '-S', path.join(GOLDEN, `${name}.profile`)], { encoding: 'buffer' });
      expect(r.status, `${name}: ${r.stderr.toString()}`).toBe(0);
      expect(r.stdout.length, name).toBeGreaterThan(1000); // the compiled policy
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'pv-apparmor-'));
    try {
      const broken = path.join(dir, 'broken.profile');
      writeFileSync(broken, appArmorProfile(cases[0]![1]).replace('deny capability,', 'deny capabilityx,'));
      expect(spawnSync(PARSER!, ['-Q', '-K', '-T', '-S', broken]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
