/**
 * Golden tests: spec → QEMU argv, one argument per line in
 * test/golden/qemu/NAME.argv. `UPDATE_GOLDEN=1 npx vitest run --project unit
 * src/drivers/qemu/argv.test.ts` rewrites them; review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { validateSpec, type VmSpecInput } from '../../spec/index.js';
import type { LaunchPlan } from '../driver.js';
import { buildQemuArgv, bootIndexes, memoryArg, type ArgvEnv } from './argv.js';
import { runtimeFiles } from './files.js';
import { diskNodes, stableMac } from './names.js';
import { opts, optValue } from './qemu-opts.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'golden', 'qemu');
const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const DIR = '/var/lib/polyvisor/vms/' + ID;
const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };
const KERNEL = { kernel: '/srv/guest/vmlinuz', initrd: '/srv/guest/initrd.img', cmdline: 'console=ttyS0,115200 panic=-1 quiet' };

function plan(input: VmSpecInput, extra: Partial<LaunchPlan> = {}): LaunchPlan {
  const spec = validateSpec(input);
  const diskPaths = Object.fromEntries(spec.disks.map((d) => [d.name, d.path ?? `${DIR}/${d.name}.qcow2`]));
  return { id: ID, spec, dir: DIR, diskPaths, ...extra };
}

const env = (over: Partial<ArgvEnv> = {}): ArgvEnv => ({ accel: 'tcg', files: runtimeFiles(DIR), ...over });

const cases: Array<[string, LaunchPlan, ArgvEnv]> = [
  ['minimal-direct-kernel', plan({ name: 'tiny', memory: '128Mi', boot: KERNEL }), env()],
  ['bios-sata-cdrom', plan({
    name: 'bios-sata', machine: { type: 'q35' }, cpu: { count: 2 }, memory: '1Gi',
    disks: [
      { name: 'root', path: '/srv/images/root.qcow2', bus: 'sata', cache: 'none' },
      { name: 'install', path: '/srv/iso/debian.iso', media: 'cdrom' },
      { name: 'data', size: '10Gi', bus: 'scsi', cache: 'unsafe' },
    ],
    boot: { order: ['cdrom', 'disk'] },
  }), env({ accel: 'kvm' })],
  ['uefi', plan({
    name: 'uefi', memory: '256Mi', boot: { firmware: 'uefi' },
    disks: [{ name: 'boot', path: '/srv/images/disk.raw', format: 'raw', readOnly: true }],
  }), env({ firmware: OVMF })],
  ['port-forwards', plan({
    name: 'web', memory: '512Mi', boot: KERNEL,
    networks: [
      { name: 'net0', portForwards: [{ hostPort: 8080, guestPort: 80 }, { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 }] },
      { name: 'lan', model: 'e1000', mac: '52:54:00:aa:bb:cc' },
    ],
  }), env()],
  ['vnc-no-agent-pc', plan({
    name: 'desktop', machine: { type: 'pc' }, cpu: { count: 4, sockets: 2, threads: 2 }, memory: '2Gi',
    agent: { enabled: false }, display: { vnc: true },
    disks: [{ name: 'root', path: '/srv/images/desktop.qcow2', bus: 'sata', bootIndex: 5 }, { name: 'cd', path: '/srv/iso/tools.iso', media: 'cdrom' }],
    networks: [{ name: 'net0' }],
    boot: { order: ['network', 'disk'] },
  }), env()],
  ['odd-memory-restore', plan({ name: 'odd', memory: '262084Ki', boot: KERNEL, serial: { enabled: true } }, { restoreFrom: `${DIR}/state.save` }), env()],
  ['virtual-network-tap', plan({
    name: 'net', memory: '128Mi', boot: KERNEL,
    networks: [{ name: 'net0', network: 'lab' }, { name: 'mgmt', network: 'mgmt', model: 'e1000', mac: '52:54:00:aa:bb:01' }, { name: 'user' }],
  }, { taps: { net0: 'pvt-0123456789a', mgmt: 'pvt-bcdef012345' } }), env()],
  // issue 19: NICs on a VXLAN overlay (MTU 1450): virtio tells the guest with host_mtu; an e1000 cannot (no option)
  ['overlay-nic-mtu', plan({
    name: 'ovl', memory: '128Mi', boot: KERNEL,
    networks: [{ name: 'net0', network: 'ov' }, { name: 'net1', network: 'ov', model: 'e1000', mac: '52:54:00:aa:bb:02' }],
  }, { taps: { net0: 'pvt-0123456789b', net1: 'pvt-0123456789c' }, nicMtu: { net0: 1450, net1: 1450 } }), env()],
  ['cloud-init-seed', plan({ name: 'ci', memory: '128Mi', boot: KERNEL, cloudInit: { hostname: 'ci-host' } }), env()],
  ['vmware-devices-secure-boot', plan({
    name: 'imported', memory: '1Gi', boot: { firmware: 'uefi', secureBoot: true }, scsiController: 'pvscsi',
    display: { video: 'vmware' }, os: { type: 'windows', variant: 'windows2019srv_64Guest' },
    disks: [{ name: 'disk0', path: '/srv/images/disk0.qcow2', bus: 'scsi' }, { name: 'cd', path: '/srv/iso/tools.iso', media: 'cdrom', bus: 'ide' }],
    networks: [{ name: 'net0', model: 'vmxnet3', mac: '00:50:56:aa:bb:cc' }, { name: 'net1', model: 'e1000e' }],
  }), env({ firmware: { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' } })],
  ['virtualbox-devices-pc', plan({
    name: 'vbox', machine: { type: 'pc' }, memory: '512Mi', scsiController: 'lsilogic', display: { vnc: true, video: 'cirrus' },
    disks: [{ name: 'a', path: '/srv/images/a.qcow2', bus: 'ide' }, { name: 'b', path: '/srv/images/b.qcow2', bus: 'scsi' }],
    networks: [{ name: 'net0', model: 'rtl8139' }],
  }), env()],
  // audit defect 9: a restricted user NIC (no outgoing connections, 10.0.2.2 included) that still takes a forward in
  ['user-net-restrict', plan({
    name: 'walled', memory: '128Mi', boot: KERNEL,
    networks: [{ name: 'net0', restrict: true, portForwards: [{ hostPort: 2222, guestPort: 22 }] }, { name: 'net1', restrict: false }],
  }), env()],
  // issue 23: LUKS inside qcow2; QEMU reads the passphrase from a file (never argv) into a secret object the format node names
  ['encrypted-disk', plan({
    name: 'vault', memory: '128Mi', boot: KERNEL,
    disks: [{ name: 'data', size: '1Gi', encrypt: true, cache: 'none' }, { name: 'plain', size: '1Gi' }],
  }, { diskSecrets: { data: `${DIR}/keys/data.secret` } }), env()],
];

describe('buildQemuArgv golden files', () => {
  for (const [name, p, e] of cases) {
    it(name, () => {
      const text = `${buildQemuArgv(p, e).join('\n')}\n`;
      const file = path.join(GOLDEN, `${name}.argv`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('argv pieces', () => {
  it('is pure: same plan, same argv', () => {
    const [, p, e] = cases[1]!;
    expect(buildQemuArgv(p, e)).toEqual(buildQemuArgv(p, e));
  });

  it('refuses a NIC on a virtual network without its tap (a bug in the caller, never a silent user-mode NIC)', () => {
    expect(() => buildQemuArgv(plan({ name: 'n', boot: KERNEL, networks: [{ network: 'lab' }] }), env())).toThrow(/no tap was attached/);
  });

  it('refuses an encrypted disk whose passphrase file was not handed over (a caller bug, never an unencrypted open)', () => {
    const p = plan({ name: 'v', boot: KERNEL, disks: [{ name: 'data', size: '1Gi', encrypt: true }] });
    expect(() => buildQemuArgv(p, env())).toThrow(/passphrase was not handed to QEMU/);
  });

  it('opens every layer of an encrypted disk with external snapshots with the disk\'s one secret, and a plain disk\'s chain without', () => {
    const p = plan({ name: 'v', boot: KERNEL, disks: [{ name: 'data', size: '1Gi', encrypt: true }, { name: 'plain', size: '1Gi' }] });
    const argv = buildQemuArgv({ ...p, diskSecrets: { data: '/s/data.secret' }, diskBackingFiles: { data: ['/v/d.ext-1.qcow2', '/v/data.qcow2'], plain: ['/v/p.qcow2'] } }, env());
    const data = argv.find((a) => a.includes('node-name=disk-data'))!;
    expect(data).toMatch(new RegExp([
      ',encrypt\\.format=luks,encrypt\\.key-secret=key-data',
      ',backing\\.driver=qcow2,backing\\.file\\.driver=file,backing\\.file\\.filename=/v/d\\.ext-1\\.qcow2,backing\\.encrypt\\.format=luks,backing\\.encrypt\\.key-secret=key-data',
      ',backing\\.backing\\.driver=qcow2,backing\\.backing\\.file\\.driver=file,backing\\.backing\\.file\\.filename=/v/data\\.qcow2,backing\\.backing\\.encrypt\\.format=luks,backing\\.backing\\.encrypt\\.key-secret=key-data$',
    ].join('')));
    expect(argv.find((a) => a.includes('node-name=disk-plain'))).not.toMatch(/encrypt|backing/);
    expect(argv.join(' ')).not.toMatch(/backing\.backing\.backing/);
  });

  it('passes memory in KiB, exactly', () => {
    expect(memoryArg(262084 * 1024)).toBe('262084K');
    expect(memoryArg(256 * 1024 ** 2)).toBe('262144K');
    expect(memoryArg(1024 * 1024 + 1)).toBe('1025K');
    expect(buildQemuArgv(cases[5]![1], env())).toContain('262084K');
  });

  it('doubles commas in option values', () => {
    expect(optValue('/a,b/c')).toBe('/a,,b/c');
    expect(opts('socket', [['path', '/x,y'], ['server', true], ['skip', undefined]])).toBe('socket,path=/x,,y,server=on');
  });

  it('derives short, valid node names and stable MACs', () => {
    const long = 'a'.repeat(63);
    const n = diskNodes(long);
    expect(n.format.length).toBeLessThanOrEqual(31);
    expect(n.file.length).toBeLessThanOrEqual(31);
    expect(n.format).toMatch(/^[A-Za-z][A-Za-z0-9_.-]*$/);
    expect(diskNodes('0data').format).toBe('disk-0data');
    expect(stableMac(ID, 'net0')).toBe(stableMac(ID, 'net0'));
    expect(stableMac(ID, 'net0')).not.toBe(stableMac(ID, 'net1'));
    expect(stableMac(ID, 'net0')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('numbers boot devices after explicit indexes, following boot.order', () => {
    const p = cases[4]![1];
    expect(Object.fromEntries(bootIndexes(p.spec))).toEqual({ root: 5, 'net:net0': 6 });
    expect(bootIndexes(cases[0]![1].spec).size).toBe(0);
  });

  it('refuses cpu "host" without KVM and UEFI without firmware', () => {
    const host = plan({ name: 'h', boot: KERNEL, cpu: { model: 'host' } });
    expect(() => buildQemuArgv(host, env())).toThrow(/needs KVM/);
    expect(buildQemuArgv(host, env({ accel: 'kvm' }))).toContain('host');
    const uefi = cases[2]![1];
    try {
      buildQemuArgv(uefi, env());
      expect.unreachable();
    } catch (err) {
      expect(isPolyvisorError(err, 'OVMF_MISSING')).toBe(true);
    }
  });

  it('refuses secure boot without UEFI on q35, and more SCSI disks than the controller has targets', () => {
    expect(() => validateSpec({ name: 's', boot: { secureBoot: true }, disks: [{ name: 'd', path: '/srv/d.qcow2' }] })).toThrow(/secure boot needs/);
    expect(() => validateSpec({ name: 's', machine: { type: 'pc' }, boot: { firmware: 'uefi', secureBoot: true }, disks: [{ name: 'd', path: '/srv/d.qcow2' }] })).toThrow(/secure boot needs/);
    const disks = Array.from({ length: 8 }, (_, i) => ({ name: `d${i}`, path: `/srv/d${i}.qcow2`, bus: 'scsi' as const }));
    expect(() => buildQemuArgv(plan({ name: 'lsi', scsiController: 'lsilogic', disks }), env())).toThrow(/lsilogic controller has 7 targets/);
    expect(buildQemuArgv(plan({ name: 'vs', disks }), env()).filter((a) => a.startsWith('scsi-hd'))).toHaveLength(8);
  });

  it('keeps a video card without VNC only when display.video names one', () => {
    const headless = buildQemuArgv(plan({ name: 'h', boot: KERNEL }), env());
    expect(headless.some((a) => a.includes('video0'))).toBe(false);
    expect(buildQemuArgv(plan({ name: 'h', boot: KERNEL, display: { video: 'virtio' } }), env())).toContain('virtio-vga,id=video0');
    expect(buildQemuArgv(plan({ name: 'h', boot: KERNEL, display: { vnc: true, video: 'none' } }), env()).some((a) => a.includes('video0'))).toBe(false);
  });

  it('refuses more SATA devices than q35 has ports', () => {
    const disks = Array.from({ length: 7 }, (_, i) => ({ name: `d${i}`, path: `/srv/d${i}.qcow2`, bus: 'sata' as const }));
    expect(() => buildQemuArgv(plan({ name: 'many', disks }), env())).toThrow(/6 SATA ports/);
  });

  it('rejects socket paths longer than sun_path', () => {
    expect(() => runtimeFiles('/' + 'x'.repeat(100))).toThrow(/limit is 107/);
  });
});
