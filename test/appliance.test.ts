/**
 * Polyvisor's appliance (guest/appliance/, docs/guest.md), built with `polyvisor appliance build`:
 * every format with SHA256SUMS; a second build from an empty cache gives the same checksums; the
 * image boots to its ready line from every format under SeaBIOS, and under OVMF (UEFI); its
 * platform detection under QEMU dressed as plain QEMU/virtio, VMware, Hyper-V and VirtualBox.
 *
 * QEMU (TCG) is started here directly with argv arrays, not through the daemon: the dressings
 * (SMBIOS vendors, pvscsi, vmxnet3, vmware-svga, tulip, AHCI on q35) are not in the VM spec. VMware,
 * Hyper-V and VirtualBox themselves cannot run here: QEMU's imitation of their device models stands
 * in, and under TCG the CPUID hypervisor leaf still says TCG (Hyper-V enlightenments need KVM), so
 * `hypervisor=qemu` on every dressing; the platform comes from DMI and devices. systemd-detect-virt
 * (in the image as a second opinion) is compared on each.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOvf } from '../src/interchange/index.js';
import { GuestAgentClient } from '../src/qmp/index.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const READY = 'POLYVISOR-APPLIANCE-READY';
const PLATFORM = 'POLYVISOR-PLATFORM';
/** A cold appliance build downloads the kernel package and makes every format: minutes on 2 busy cores. */
const BUILD_MS = limit('operation', 5);

let tmp: string;
let outDir: string;
const live = new Set<number>();

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-appliance-'));
  outDir = path.join(tmp, 'out');
  const r = await runCli(['appliance', 'build', '--out', outDir]);
  if (r.code !== 0) throw new Error(`polyvisor appliance build failed (${r.code}): ${r.stderr.slice(-2000)}`);
}, BUILD_MS);

afterAll(() => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function sums(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n')) {
    const [sha, file] = line.split(/\s+/);
    m.set(file!, sha!);
  }
  return m;
}

/** The file of a format in the output directory, and the format name QEMU reads it as. */
function imageOf(fmt: string): { file: string; qemuFormat: string } {
  const base = readdirSync(outDir).find((f) => f.endsWith('.qcow2'))!.replace(/\.qcow2$/, '');
  const files: Record<string, [string, string]> = {
    qcow2: [`${base}.qcow2`, 'qcow2'],
    raw: [`${base}.raw`, 'raw'],
    vdi: [`${base}.vdi`, 'vdi'],
    vhdx: [`${base}.vhdx`, 'vhdx'],
    vmdk: [`${base}.vmdk`, 'vmdk'],
    'vmdk-stream': [`${base}-stream.vmdk`, 'vmdk'],
    vpc: [`${base}.vhd`, 'vpc'],
  };
  const [file, qemuFormat] = files[fmt]!;
  return { file: path.join(outDir, file), qemuFormat };
}

/** The OVA unpacked (once) into tmp/ova: its member names in archive order. */
function ovaMembers(): { dir: string; list: string[] } {
  const ova = path.join(outDir, readdirSync(outDir).find((f) => f.endsWith('.ova'))!);
  const dir = path.join(tmp, 'ova');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    const r = spawnSync('tar', ['-xf', ova, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar -xf ${ova}: ${r.stderr}`);
  }
  return { dir, list: spawnSync('tar', ['-tf', ova], { encoding: 'utf8' }).stdout.trim().split('\n') };
}

interface Boot {
  platformLine: string;
  readyLine: string;
  fields: Record<string, string>;
  log: string;
}

/**
 * Boots the appliance (TCG, 256 MiB, -snapshot so the image stays as written) with `args` (disk,
 * devices; @DIR@ is this boot's directory) and waits for its ready line on the serial console.
 */
async function boot(name: string, args: string[], opts: { onReady?: (dir: string) => Promise<void> } = {}): Promise<Boot> {
  const dir = mkdtempSync(path.join(tmp, `${name}-`));
  const log = path.join(dir, 'serial.log');
  const child = spawn(
    'qemu-system-x86_64',
    ['-accel', 'tcg', '-m', '256', '-nodefaults', '-display', 'none', '-snapshot', '-no-reboot', '-serial', `file:${log}`, ...args.map((a) => a.replaceAll('@DIR@', dir))],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let exited = false;
  child.on('exit', () => (exited = true));
  if (child.pid !== undefined) live.add(child.pid);
  const deadline = Date.now() + limit('boot', 2);
  try {
    for (;;) {
      const text = existsSync(log) ? readFileSync(log, 'latin1').replaceAll('\r', '') : '';
      const readyLine = text.split('\n').find((l) => l.startsWith(READY));
      if (readyLine) {
        const platformLine = text.split('\n').find((l) => l.startsWith(PLATFORM)) ?? '';
        const fields = Object.fromEntries(platformLine.split(' ').slice(1).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
        await opts.onReady?.(dir);
        return { platformLine, readyLine, fields, log: text };
      }
      if (exited) throw new Error(`${name}: QEMU exited before ${READY}: ${stderr.trim()}\n${text.slice(-1500)}`);
      if (Date.now() > deadline) throw new Error(`${name}: no ${READY} within ${limit('boot', 2)} ms:\n${text.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      live.delete(child.pid);
    }
  }
}

const virtioDisk = (fmt: string): string[] => {
  const { file, qemuFormat } = imageOf(fmt);
  return ['-drive', `file=${file},format=${qemuFormat},if=virtio`];
};

describe('polyvisor appliance build', () => {
  it('writes every format with SHA256SUMS that match the files, each a valid image of the same disk', () => {
    const m = sums(outDir);
    expect([...m.keys()].map((f) => f.replace(/^polyvisor-appliance-[^-]+(-|\.)/, '$1')).sort()).toEqual(
      ['-stream.vmdk', '.ova', '.qcow2', '.raw', '.vdi', '.vhd', '.vhdx', '.vmdk'].sort(),
    );
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: outDir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const raw = imageOf('raw').file;
    for (const fmt of ['qcow2', 'vdi', 'vhdx', 'vmdk', 'vmdk-stream', 'vpc']) {
      const { file, qemuFormat } = imageOf(fmt);
      const cmp = spawnSync('qemu-img', ['compare', '-f', qemuFormat, '-F', 'raw', file, raw], { encoding: 'utf8' });
      expect(cmp.stdout + cmp.stderr, fmt).toContain('Images are identical');
    }
    // The disk: GPT with a BIOS boot partition and an EFI system partition.
    const table = spawnSync('sfdisk', ['-d', raw], { encoding: 'utf8' }).stdout;
    expect(table).toContain('label: gpt');
    expect(table).toContain('type=21686148-6449-6E6F-744E-656564454649');
    expect(table).toContain('type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  it('writes an OVA whose OVF comes first, whose manifest matches, and that the OVF reader maps to one disk', () => {
    const { dir: x, list } = ovaMembers();
    expect(list).toHaveLength(3);
    expect(list[0]).toMatch(/\.ovf$/);
    expect(list[1]).toMatch(/\.mf$/);
    const mf = readFileSync(path.join(x, list[1]!), 'utf8');
    for (const f of [list[0]!, list[2]!]) {
      const sha = spawnSync('sha256sum', [path.join(x, f)], { encoding: 'utf8' }).stdout.split(' ')[0];
      expect(mf).toContain(`SHA256(${f})= ${sha}`);
    }
    const plan = readOvf(readFileSync(path.join(x, list[0]!), 'utf8'), {});
    expect(plan.disks).toHaveLength(1);
    expect(plan.disks[0]!.file).toBe(list[2]);
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'vmdk', '-F', 'raw', path.join(x, list[2]!), imageOf('raw').file], { encoding: 'utf8' });
    expect(cmp.stdout).toContain('Images are identical');
  });

  it(
    'gives the same SHA256SUMS when built again from an empty cache (same inputs, same SOURCE_DATE_EPOCH)',
    async () => {
      const again = path.join(tmp, 'again');
      // Asynchronously: a build takes minutes, and a blocked worker loses its line to vitest.
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn('bash', [path.join(ROOT, 'guest', 'appliance', 'build.sh'), '--out', again], {
          env: { ...process.env, POLYVISOR_APPLIANCE_CACHE: path.join(tmp, 'cache2') },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        if (p.pid !== undefined) live.add(p.pid);
        let stderr = '';
        p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        p.on('close', (code) => {
          if (p.pid !== undefined) live.delete(p.pid);
          resolve({ code, stderr });
        });
      });
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(readFileSync(path.join(again, 'SHA256SUMS'), 'utf8')).toBe(readFileSync(path.join(outDir, 'SHA256SUMS'), 'utf8'));
    },
    BUILD_MS,
  );
});

describe('the appliance boots', () => {
  // Two QEMUs at a time: the machine has two cores.
  const formats = ['raw', 'qcow2', 'vdi', 'vhdx', 'vmdk', 'vmdk-stream', 'vpc', 'ova'];
  it(
    'from every format under SeaBIOS (virtio disk), to its ready line',
    async () => {
      const ready: Record<string, string> = {};
      const queue = [...formats];
      const worker = async (): Promise<void> => {
        for (let fmt = queue.shift(); fmt; fmt = queue.shift()) {
          let args: string[];
          if (fmt === 'ova') {
            const { dir: x, list } = ovaMembers();
            args = ['-drive', `file=${path.join(x, list[2]!)},format=vmdk,if=virtio`];
          } else {
            args = virtioDisk(fmt);
          }
          const b = await boot(`bios-${fmt}`, args);
          ready[fmt] = b.readyLine;
        }
      };
      await Promise.all([worker(), worker()]);
      for (const fmt of formats) expect(ready[fmt], fmt).toMatch(/^POLYVISOR-APPLIANCE-READY version=\S+ uptime=[\d.]+$/);
    },
    limit('boot', 2 * formats.length),
  );

  it(
    'under UEFI (OVMF, pflash) from the vhdx',
    async () => {
      const vars = path.join(tmp, 'OVMF_VARS.fd');
      copyFileSync('/usr/share/OVMF/OVMF_VARS_4M.fd', vars);
      const b = await boot('uefi', [
        '-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
        '-drive', `if=pflash,format=raw,file=${vars}`,
        ...virtioDisk('vhdx'),
      ]);
      expect(b.readyLine).toContain('version=');
      // The same GRUB menu, reached through the ESP's \EFI\BOOT\BOOTX64.EFI.
      expect(b.log).toContain('Booting `Polyvisor appliance');
    },
    limit('boot', 3),
  );
});

describe('platform detection', () => {
  it(
    'plain QEMU with virtio: platform qemu, the QEMU agent started and answering with the verdict',
    async () => {
      let agentPlatform = '';
      const b = await boot(
        'plain',
        [
          ...virtioDisk('qcow2'),
          '-nic', 'user,model=virtio-net-pci',
          '-device', 'virtio-serial-pci',
          '-chardev', 'socket,path=@DIR@/qga.sock,server=on,wait=off,id=qga0',
          '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
        ],
        {
          onReady: async (dir) => {
            const a = await GuestAgentClient.connect(path.join(dir, 'qga.sock'), { timeoutMs: limit('shell') });
            try {
              await a.sync();
              const h = await a.execute<number>('guest-file-open', { path: '/run/polyvisor/platform', mode: 'r' });
              const r = await a.execute<{ 'buf-b64': string }>('guest-file-read', { handle: h, count: 4096 });
              await a.execute('guest-file-close', { handle: h });
              agentPlatform = Buffer.from(r['buf-b64'], 'base64').toString('utf8');
            } finally {
              a.close();
            }
          },
        },
      );
      expect(b.fields).toMatchObject({ platform: 'qemu', hypervisor: 'qemu', 'systemd-detect-virt': 'qemu', tools: 'qemu-guest-agent' });
      expect(b.fields['hints']).toContain('pci:virtio');
      expect(agentPlatform).toContain('platform=qemu\n');
      expect(agentPlatform).toContain('cpuid_vendor=TCGTCGTCGTCG\n');
      expect(agentPlatform).toContain('tools=qemu-guest-agent\n');
    },
    limit('boot', 3),
  );

  it(
    'VMware-like (vmport, SMBIOS "VMware, Inc.", pvscsi boot disk, vmxnet3, vmware-svga): platform vmware; systemd-detect-virt says qemu (CPUID first)',
    async () => {
      const { file, qemuFormat } = imageOf('vmdk');
      const b = await boot('vmware', [
        '-machine', 'pc,vmport=on',
        '-smbios', 'type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform',
        '-device', 'pvscsi,id=scsi0',
        '-drive', `file=${file},format=${qemuFormat},if=none,id=d0`,
        '-device', 'scsi-hd,drive=d0,bus=scsi0.0',
        '-nic', 'user,model=vmxnet3',
        '-device', 'vmware-svga',
      ]);
      expect(b.fields).toMatchObject({ platform: 'vmware', hypervisor: 'qemu', 'systemd-detect-virt': 'qemu', tools: 'open-vm-tools:not-in-image' });
      for (const h of ['pci:vmxnet3', 'pci:pvscsi', 'pci:vmware-svga', 'dmi:vmware', 'vmport']) expect(b.fields['hints']).toContain(h);
    },
    limit('boot', 3),
  );

  it(
    'Hyper-V-like (SMBIOS "Microsoft Corporation" "Virtual Machine", hv-* CPU flags, IDE disk, tulip NIC): platform hyperv, no VMBus so no daemons',
    async () => {
      const { file, qemuFormat } = imageOf('vhdx');
      const b = await boot('hyperv', [
        '-cpu', 'qemu64,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-time',
        '-smbios', 'type=1,manufacturer=Microsoft Corporation,product=Virtual Machine',
        '-drive', `file=${file},format=${qemuFormat},if=ide`,
        '-nic', 'user,model=tulip',
      ]);
      // Under TCG the enlightenments do not change CPUID's vendor leaf: both opinions see QEMU's engine.
      expect(b.fields).toMatchObject({ platform: 'hyperv', hypervisor: 'qemu', 'systemd-detect-virt': 'qemu', tools: 'hyperv-daemons:no-vmbus-device' });
      expect(b.fields['hints']).toContain('dmi:hyperv');
      expect(b.fields['hints']).not.toContain('pci:virtio');
    },
    limit('boot', 3),
  );

  it(
    'VirtualBox-like (SMBIOS "innotek GmbH" "VirtualBox", q35 AHCI boot disk, e1000): platform virtualbox, and systemd-detect-virt agrees (oracle)',
    async () => {
      const { file, qemuFormat } = imageOf('vdi');
      const b = await boot('vbox', [
        '-machine', 'q35',
        '-smbios', 'type=0,vendor=innotek GmbH',
        '-smbios', 'type=1,manufacturer=innotek GmbH,product=VirtualBox',
        '-drive', `file=${file},format=${qemuFormat},if=none,id=d0`,
        '-device', 'ide-hd,drive=d0,bus=ide.0',
        '-nic', 'user,model=e1000',
      ]);
      expect(b.fields).toMatchObject({ platform: 'virtualbox', hypervisor: 'qemu', 'systemd-detect-virt': 'oracle', tools: 'none' });
      expect(b.fields['hints']).toContain('dmi:virtualbox');
    },
    limit('boot', 3),
  );
});
