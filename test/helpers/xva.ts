/**
 * XVA packages made by the tests in XenServer's layout — no XenServer or
 * XCP-ng runs here. `xvaOvaXml` writes an `ova.xml` the way XAPI's export
 * does (xen-api ocaml/xapi/export.ml: one XML-RPC struct of `version` and
 * `objects`, each `{class, id, snapshot}` with ids `Ref:N`, strings as bare
 * `<value>` text, int64 fields as strings); `packXva` cuts each disk into
 * 1 MiB chunks named `Ref:N/00000000` with a `.checksum` (SHA-1) or
 * `.xxhash` (XXH64, `%016LX`) after each, leaving out all-zero chunks but the
 * first and the last (stream_vdi.ml), and packs them with GNU tar, ova.xml
 * first — an archiver that is not ours.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xxh64Hex } from '../../src/interchange/index.js';

export interface XvaVm {
  name: string;
  description?: string;
  vcpus: number;
  vcpusMax?: number;
  coresPerSocket?: number;
  memoryMiB: number;
  dynamicMaxMiB?: number;
  firmware?: 'bios' | 'uefi';
  secureboot?: 'true' | 'false' | 'auto';
  viridian?: boolean;
  vga?: string;
  pv?: boolean;
  template?: string;
  platform?: Record<string, string>;
  disks: Array<{ userdevice: number; sizeBytes: number; mode?: 'RW' | 'RO'; label?: string }>;
  cds?: Array<{ userdevice: number; iso?: string }>;
  vifs: Array<{ device: number; mac: string; network: string }>;
  snapshots?: number;
  vtpm?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
type V = string | boolean | V[] | { [k: string]: V };
function val(v: V): string {
  if (typeof v === 'string') return `<value>${esc(v)}</value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(val).join('')}</data></array></value>`;
  return `<value><struct>${Object.entries(v).map(([k, x]) => `<member><name>${esc(k)}</name>${val(x)}</member>`).join('')}</struct></value>`;
}

/** The ova.xml of an export of `vm`, and the refs of its disks' VDIs in userdevice order. */
export function xvaOvaXml(vm: XvaVm): { xml: string; diskRefs: string[] } {
  let n = 0;
  const ref = (): string => `Ref:${n++}`;
  const objects: Array<{ class: string; id: string; snapshot: Record<string, V> }> = [];
  const vmRef = ref();
  const sr = ref();
  const isoSr = ref();
  objects.push({ class: 'SR', id: sr, snapshot: { uuid: 'a1b2c3d4-0000-4000-8000-000000000001', name_label: 'Local storage', type: 'ext', content_type: 'user' } });
  objects.push({ class: 'SR', id: isoSr, snapshot: { uuid: 'a1b2c3d4-0000-4000-8000-000000000002', name_label: 'ISO library', type: 'iso', content_type: 'iso' } });
  const vbds: string[] = [];
  const diskRefs: string[] = [];
  for (const d of vm.disks) {
    const vdi = ref();
    const vbd = ref();
    diskRefs.push(vdi);
    vbds.push(vbd);
    objects.push({ class: 'VDI', id: vdi, snapshot: { uuid: `5d1c0000-0000-4000-8000-00000000000${d.userdevice}`, name_label: d.label ?? `${vm.name} ${d.userdevice}`, name_description: '', SR: sr, VBDs: [vbd], virtual_size: String(d.sizeBytes), physical_utilisation: String(d.sizeBytes), type: 'user', sharable: false, read_only: false, other_config: {}, sm_config: { vdi_type: 'vhd' } } });
    objects.push({ class: 'VBD', id: vbd, snapshot: { uuid: `5bd00000-0000-4000-8000-00000000000${d.userdevice}`, VM: vmRef, VDI: vdi, device: `xvd${'abcdefghij'[d.userdevice] ?? 'z'}`, userdevice: String(d.userdevice), bootable: d.userdevice === 0, mode: d.mode ?? 'RW', type: 'Disk', unpluggable: false, empty: false, other_config: { owner: '' }, qos_algorithm_type: '', qos_algorithm_params: {} } });
  }
  for (const c of vm.cds ?? []) {
    const vbd = ref();
    vbds.push(vbd);
    let vdi = 'OpaqueRef:NULL';
    if (c.iso !== undefined) {
      vdi = ref();
      objects.push({ class: 'VDI', id: vdi, snapshot: { uuid: '150150150-0000-4000-8000-000000000001', name_label: c.iso, SR: isoSr, VBDs: [vbd], virtual_size: '4194304', type: 'user', read_only: true, sharable: true } });
    }
    objects.push({ class: 'VBD', id: vbd, snapshot: { uuid: `cd000000-0000-4000-8000-00000000000${c.userdevice}`, VM: vmRef, VDI: vdi, device: 'hdd', userdevice: String(c.userdevice), bootable: false, mode: 'RO', type: 'CD', unpluggable: true, empty: c.iso === undefined } });
  }
  const vifs: string[] = [];
  for (const v of vm.vifs) {
    const net = ref();
    const vif = ref();
    vifs.push(vif);
    objects.push({ class: 'network', id: net, snapshot: { uuid: `ae700000-0000-4000-8000-00000000000${v.device}`, name_label: v.network, name_description: '', bridge: `xenbr${v.device}`, MTU: '1500', other_config: {} } });
    objects.push({ class: 'VIF', id: vif, snapshot: { uuid: `f1f00000-0000-4000-8000-00000000000${v.device}`, device: String(v.device), network: net, VM: vmRef, MAC: v.mac, MTU: '1500', MAC_autogenerated: false, other_config: {}, locking_mode: 'network_default' } });
  }
  const snapshots: string[] = [];
  for (let i = 0; i < (vm.snapshots ?? 0); i++) {
    const s = ref();
    snapshots.push(s);
    objects.push({ class: 'VM', id: s, snapshot: { uuid: `5aa90000-0000-4000-8000-00000000000${i}`, name_label: `${vm.name} before update`, is_a_snapshot: true, snapshot_of: vmRef, is_a_template: true, memory_static_max: String(vm.memoryMiB * 2 ** 20), VCPUs_max: String(vm.vcpus), VCPUs_at_startup: String(vm.vcpus), VBDs: [], VIFs: [] } });
  }
  const mib = (m: number): string => String(m * 2 ** 20);
  const platform: Record<string, V> = { timeoffset: '0', 'device-model': 'qemu-upstream-compat', acpi: '1', apic: 'true', pae: 'true', nx: 'true', hpet: 'true', ...(vm.viridian ? { viridian: 'true' } : {}), ...(vm.vga !== undefined ? { vga: vm.vga, videoram: '8' } : {}), ...(vm.coresPerSocket !== undefined ? { 'cores-per-socket': String(vm.coresPerSocket) } : {}), ...(vm.secureboot !== undefined ? { secureboot: vm.secureboot } : {}), ...(vm.platform ?? {}) };
  objects.unshift({ class: 'VM', id: vmRef, snapshot: {
    uuid: '0a0b0c0d-0000-4000-8000-000000000001', allowed_operations: [], current_operations: {}, power_state: 'Halted',
    name_label: vm.name, name_description: vm.description ?? '', user_version: '1', is_a_template: false, is_default_template: false,
    memory_overhead: mib(2), memory_target: '0', memory_static_max: mib(vm.memoryMiB), memory_dynamic_max: mib(vm.dynamicMaxMiB ?? vm.memoryMiB), memory_dynamic_min: mib(vm.dynamicMaxMiB ?? vm.memoryMiB), memory_static_min: mib(vm.dynamicMaxMiB ?? vm.memoryMiB),
    VCPUs_params: {}, VCPUs_max: String(vm.vcpusMax ?? vm.vcpus), VCPUs_at_startup: String(vm.vcpus),
    actions_after_shutdown: 'destroy', actions_after_reboot: 'restart', actions_after_crash: 'restart',
    consoles: [], VIFs: vifs, VBDs: vbds, VUSBs: [], crash_dumps: [], VTPMs: vm.vtpm ? ['Ref:999'] : [],
    PV_bootloader: vm.pv ? 'pygrub' : '', PV_kernel: '', PV_ramdisk: '', PV_args: '', PV_bootloader_args: '', PV_legacy_args: '',
    HVM_boot_policy: vm.pv ? '' : 'BIOS order', HVM_boot_params: vm.pv ? {} : { order: 'cd', ...(vm.firmware === 'uefi' ? { firmware: 'uefi' } : {}) }, HVM_shadow_multiplier: '1.000000',
    platform, PCI_bus: '', other_config: { ...(vm.template ? { base_template_name: vm.template } : {}), mac_seed: '0a0b0c0d-aaaa-bbbb-cccc-000000000001', import_task: 'OpaqueRef:NULL' },
    domid: '-1', domarch: '', last_boot_CPU_flags: {}, is_control_domain: false, metrics: 'OpaqueRef:NULL', guest_metrics: 'OpaqueRef:NULL',
    recommendations: '', xenstore_data: {}, ha_always_run: false, ha_restart_priority: '', is_a_snapshot: false, snapshot_of: 'OpaqueRef:NULL', snapshots,
    snapshot_time: '19700101T00:00:00Z', transportable_snapshot_id: '', blobs: {}, tags: [], blocked_operations: {}, affinity: 'OpaqueRef:NULL',
    attached_PCIs: [], VGPUs: [], domain_type: vm.pv ? 'pv' : 'hvm', reference_label: '', has_vendor_device: false,
  } });
  const version = { hostname: 'xcp-ng-lab', date: '2026-03-14', product_version: '8.3.0', product_brand: 'XCP-ng', build_number: 'release/yangtze/master/58', xapi_major: '25', xapi_minor: '6', export_vsn: '2' };
  const xml = val({ version, objects: objects.map((x) => ({ class: x.class, id: x.id, snapshot: x.snapshot })) });
  return { xml, diskRefs };
}

export interface XvaDisk {
  ref: string;
  raw: Buffer;
  checksum: 'sha1' | 'xxhash' | 'none';
  /** An empty keep-alive chunk after chunk 0 (XAPI sends one when a transfer idles): later numbers run one ahead. */
  keepalive?: boolean;
}

/** Writes `out` (an XVA): ova.xml, then each disk's chunks in order, each followed by its checksum. */
export function packXva(out: string, xml: string, disks: XvaDisk[], extra: Array<{ name: string; data: Buffer }> = []): void {
  const stage = mkdtempSync(path.join(os.tmpdir(), 'pv-xva-pack-'));
  try {
    const names = ['ova.xml'];
    writeFileSync(path.join(stage, 'ova.xml'), xml);
    const chunk = 1024 * 1024;
    for (const d of disks) {
      mkdirSync(path.join(stage, d.ref));
      const count = Math.ceil(d.raw.length / chunk);
      let no = 0;
      const put = (data: Buffer): void => {
        const name = `${d.ref}/${String(no++).padStart(8, '0')}`;
        writeFileSync(path.join(stage, name), data);
        names.push(name);
        if (d.checksum === 'sha1') {
          writeFileSync(path.join(stage, `${name}.checksum`), createHash('sha1').update(data).digest('hex'));
          names.push(`${name}.checksum`);
        } else if (d.checksum === 'xxhash') {
          writeFileSync(path.join(stage, `${name}.xxhash`), xxh64Hex(data));
          names.push(`${name}.xxhash`);
        }
      };
      for (let i = 0; i < count; i++) {
        const data = d.raw.subarray(i * chunk, Math.min(d.raw.length, (i + 1) * chunk));
        if (i === 0 || i === count - 1 || !data.every((b) => b === 0)) put(data);
        else no++;
        if (i === 0 && d.keepalive === true) put(Buffer.alloc(0));
      }
    }
    for (const e of extra) {
      mkdirSync(path.dirname(path.join(stage, e.name)), { recursive: true });
      writeFileSync(path.join(stage, e.name), e.data);
      names.push(e.name);
    }
    writeFileSync(path.join(stage, '.list'), `${names.join('\n')}\n`);
    const r = spawnSync('tar', ['--format=gnu', '--no-recursion', '--owner=0', '--group=0', '-cf', out, '-C', stage, '-T', path.join(stage, '.list')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
