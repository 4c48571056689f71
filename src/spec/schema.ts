/**
 * VM spec v1: what users write (input) and what the rest of Polyvisor reads
 * (the normalized output, with every default applied). Pure.
 */
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../shared/index.js';
import { CLOUD_INIT_DISK, cloudInitSchema } from './cloud-init.js';
import { memorySize, sizeText } from './size-text.js';
import { topologyProblems } from './topology-check.js';
import { cpuModelInput, cpuPinningSchema, cpuTopologySchema, devicesSchema, memoryLayoutSchema, type MemoryObjectInput } from './topology-schema.js';
import { bandwidthSchema, networkName, nicFirewallSchema } from './nic-network.js';

/** The newest spec version this Polyvisor reads (v2: topology and devices, docs/topology.md). */
export const SPEC_VERSION = 2 as const;
export const SPEC_VERSIONS = [1, 2] as const;

/** Device models QEMU 7.2 emulates (`qemu-system-x86_64 -device help`), named as other hypervisors call them. */
export const NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'vmxnet3', 'rtl8139'] as const;
export const DISK_BUSES = ['virtio', 'sata', 'scsi', 'ide'] as const;
export const SCSI_CONTROLLERS = ['virtio-scsi', 'lsilogic', 'lsisas1068', 'megasas', 'pvscsi'] as const;
export const VIDEO_MODELS = ['std', 'virtio', 'qxl', 'vmware', 'cirrus', 'none'] as const;

const name = z
  .string()
  .regex(NAME_PATTERN, NAME_RULE)
  .refine((s) => !s.endsWith('.') && !s.includes('..'), NAME_RULE);

const SAFE_PATH = /^\/[A-Za-z0-9_./@+=:-]*$/;
const absPath = z
  .string()
  .max(4096)
  .regex(SAFE_PATH, 'an absolute path of letters, digits and _ . / @ + = : - (no spaces, commas or shell characters)')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

const labelKey = z.string().regex(/^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/, 'label keys: lowercase letters, digits, . _ / - (max 63)');
const labelValue = z.string().regex(/^[A-Za-z0-9._-]{0,63}$/, 'label values: letters, digits, . _ - (max 63)');

export const cpuSchema = z
  .object({
    count: z.number().int().min(1).max(256).default(1).describe('vCPUs (online at start)'),
    sockets: z.number().int().min(1).max(16).optional(),
    cores: z.number().int().min(1).max(256).optional(),
    threads: z.number().int().min(1).max(8).optional(),
    topology: cpuTopologySchema.optional(),
    model: cpuModelInput.default('max')
      .describe('CPU model, or {name, flags: [+feature, -feature]}; "host" needs KVM, "max" gives every feature the accelerator supports'),
    max: z.number().int().min(1).max(256).optional().describe('vCPU hotplug ceiling: the guest may grow to this many'),
    pinning: cpuPinningSchema.optional(),
  })
  .strict()
  .transform((c, ctx) => {
    const total = c.max ?? c.count;
    const of = c.max === undefined ? `count (${c.count})` : `max (${c.max})`;
    if (c.max !== undefined && c.max < c.count) ctx.addIssue({ code: 'custom', path: ['max'], message: `cpu.max (${c.max}) must be at least cpu.count (${c.count})` });
    const t = c.topology;
    if (t && (c.sockets ?? c.cores ?? c.threads) !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['topology'], message: 'give either cpu.topology or cpu.sockets/cores/threads, not both' });
    }
    const sockets = t?.sockets ?? c.sockets ?? 1;
    const dies = t?.dies ?? 1;
    const threads = t?.threads ?? c.threads ?? 1;
    const cores = t?.cores ?? c.cores ?? Math.max(1, Math.floor(total / (sockets * dies * threads)));
    if (sockets * dies * cores * threads !== total) {
      ctx.addIssue(t
        ? { code: 'custom', path: ['topology'], message: `sockets × dies × cores × threads (${sockets}×${dies}×${cores}×${threads}) must equal ${of}` }
        : { code: 'custom', path: ['count'], message: `sockets × cores × threads (${sockets}×${cores}×${threads}) must equal ${of}` });
    }
    for (const k of Object.keys(c.pinning?.vcpus ?? {})) {
      if (Number(k) >= total) ctx.addIssue({ code: 'custom', path: ['pinning', 'vcpus', k], message: `vCPU ${k} does not exist: the VM has vCPUs 0-${total - 1}` });
    }
    const model = typeof c.model === 'string' ? c.model : c.model.name;
    const flags = typeof c.model === 'string' ? [] : c.model.flags;
    // v2 fields appear only when given, so a v1 spec normalizes exactly as before.
    return {
      count: c.count, sockets, cores, threads, model,
      ...(t ? { dies } : {}),
      ...(c.max === undefined ? {} : { max: c.max }),
      ...(flags.length ? { flags } : {}),
      ...(c.pinning ? { pinning: c.pinning } : {}),
    };
  });

const portForward = z
  .object({
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    hostAddress: z.ipv4().default('127.0.0.1').describe('host address to listen on'),
    hostPort: z.number().int().min(1).max(65535),
    guestPort: z.number().int().min(1).max(65535),
  })
  .strict();

export const networkSchema = z
  .object({
    name: name.default('net0'),
    type: z.enum(['user', 'network']).optional()
      .describe('user: QEMU user-mode networking (the default); network: a port on the virtual network named by `network`'),
    network: networkName.optional().describe('the virtual network this NIC is on (implies type network)'),
    model: z.enum(NIC_MODELS).default('virtio')
      .describe('virtio (fastest); e1000, e1000e, vmxnet3, rtl8139 emulate the NICs of other hypervisors so imported guests keep their drivers'),
    mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a MAC like 52:54:00:12:34:56 (lowercase)').optional(),
    ip: z.ipv4().optional().describe('network NICs: a static address reservation (default: one chosen from the DHCP range)'),
    firewall: nicFirewallSchema.optional().describe('network NICs: per-NIC firewall (default: none)'),
    antiSpoof: z.boolean().optional().describe('network NICs: drop frames with another MAC or IP (default true)'),
    linkUp: z.boolean().optional().describe('network NICs: the link state the guest sees (default true)'),
    bandwidth: bandwidthSchema.optional().describe('network NICs: limits (default: unlimited)'),
    portForwards: z.array(portForward).max(64).default([]),
    restrict: z.boolean().optional()
      .describe('user NICs: true cuts the guest off from the host and the outside (QEMU restrict=on): no outgoing connections at all, the host\'s loopback services (10.0.2.2) included; portForwards still reach the guest. Default false'),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.type === 'network' && n.network === undefined) ctx.addIssue({ code: 'custom', path: ['network'], message: 'type network needs `network: NAME`' });
    if (n.restrict !== undefined && (n.type === 'network' || n.network !== undefined)) ctx.addIssue({ code: 'custom', path: ['restrict'], message: 'restrict is for user-mode NICs (type user); a network NIC is limited by its firewall' });
    if (n.type === 'user' || (n.type === undefined && n.network === undefined)) {
      for (const k of ['network', 'ip', 'firewall', 'bandwidth', 'antiSpoof', 'linkUp'] as const) {
        if (n[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is for NICs on a virtual network (type network)` });
      }
    }
  })
  // Old specs stay as they were: the network-only defaults are filled on network NICs alone.
  .transform((n) => (n.network === undefined ? { ...n, type: 'user' as const } : { ...n, type: 'network' as const, antiSpoof: n.antiSpoof ?? true, linkUp: n.linkUp ?? true }));

export const diskSchema = z
  .object({
    name: name.describe('disk name, unique within the VM'),
    path: absPath.optional().describe('an existing image file'),
    size: sizeText('disk size', 1024 ** 2, 64 * 1024 ** 4, 1).optional().describe('create an empty image of this size in the VM directory'),
    format: z.enum(['qcow2', 'raw']).default('qcow2'),
    media: z.enum(['disk', 'cdrom']).default('disk'),
    bus: z.enum(DISK_BUSES).default('virtio')
      .describe('scsi disks sit behind the VM\'s scsiController; ide is the AHCI controller on q35 (which has no IDE) and PIIX IDE on pc'),
    readOnly: z.boolean().default(false),
    cache: z.enum(['none', 'writeback', 'writethrough', 'directsync', 'unsafe']).default('writeback'),
    bootIndex: z.number().int().min(0).max(99).optional(),
    encrypt: z.boolean().optional()
      .describe('LUKS encryption inside qcow2: a new disk gets a random passphrase kept in the secrets store (docs/security.md "Encrypted disks"); a disk given by path must already be LUKS-encrypted qcow2. Default false'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.encrypt === true) {
      if (d.format !== 'qcow2') ctx.addIssue({ code: 'custom', path: ['encrypt'], message: `encrypt needs format qcow2 (LUKS inside qcow2); a ${d.format} image cannot be encrypted: set format: qcow2` });
      if (d.media === 'cdrom') ctx.addIssue({ code: 'custom', path: ['encrypt'], message: 'encrypt is for disks; a cdrom is read as a plain ISO' });
    }
    if ((d.path === undefined) === (d.size === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'give exactly one of path (an existing image) or size (a new image)' });
    }
    if (d.readOnly && (d.bus === 'sata' || d.bus === 'ide') && d.media === 'disk') {
      ctx.addIssue({ code: 'custom', path: ['readOnly'], message: 'QEMU cannot make a SATA or IDE hard disk read-only; use bus virtio or scsi, or media cdrom' });
    }
    if (d.media === 'cdrom' && d.size !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: 'a cdrom needs a path to an ISO, not a size' });
    }
  });

export const bootSchema = z
  .object({
    firmware: z.enum(['bios', 'uefi']).default('bios'),
    kernel: absPath.optional().describe('direct kernel boot: path to the kernel'),
    initrd: absPath.optional(),
    cmdline: z.string().max(4096).regex(/^[\x20-\x7e]*$/, 'printable ASCII only').optional(),
    order: z.array(z.enum(['disk', 'cdrom', 'network'])).max(3).default(['disk', 'cdrom']),
    secureBoot: z.boolean().optional().describe('UEFI Secure Boot (firmware uefi, machine q35): OVMF\'s secboot build with Microsoft keys enrolled'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.kernel === undefined && (b.initrd !== undefined || b.cmdline !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['kernel'], message: 'initrd and cmdline need a kernel' });
    }
  });

/** High availability in a cluster: restart elsewhere when the VM's host is lost (docs/ha.md). `true` takes every default. */
export const haSchema = z
  .union([
    z.boolean(),
    z.object({
      priority: z.number().int().min(0).max(1000).default(0).describe('higher restarts first when capacity is short'),
      group: name.optional().describe('the host pool (HA group) the VM prefers'),
      restricted: z.boolean().default(false).describe('only hosts of `group` may run it'),
      maxRestarts: z.number().int().min(0).max(100).default(3).describe('restarts elsewhere within an hour before HA gives up on it'),
    }).strict(),
  ])
  .transform((v) => (v === false ? undefined : v === true ? { priority: 0, restricted: false, maxRestarts: 3 } : v))
  .describe('cluster HA: `true`, or {priority, group, restricted, maxRestarts}');

export const vmSpecSchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]).default(SPEC_VERSION).describe('spec format version; a spec is written with the lowest version that holds it'),
    name,
    description: z.string().max(1024).default(''),
    labels: z.record(labelKey, labelValue).default({}),
    cpu: cpuSchema.prefault({}),
    memory: memorySize().default(256 * 1024 ** 2)
      .describe('RAM: "512Mi", "2Gi", "262084Ki", or a number of MiB (v2: or {size, numa, hugepages, balloon, max})'),
    memoryLayout: memoryLayoutSchema.optional()
      .describe('v2: what `memory: {…}` holds besides its size (numa, hugepages, balloon, max), as the normalized spec carries it'),
    devices: devicesSchema.optional().describe('v2: host PCI devices and the GPU'),
    machine: z
      .object({
        type: z.enum(['q35', 'pc']).default('q35'),
        accel: z.enum(['auto', 'kvm', 'tcg']).default('auto').describe('auto probes KVM and falls back to TCG'),
      })
      .strict()
      .prefault({}),
    boot: bootSchema.prefault({}),
    disks: z.array(diskSchema).max(16).default([]),
    networks: z.array(networkSchema).max(8).default([]),
    serial: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
    agent: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
    display: z.object({
      vnc: z.boolean().default(false),
      video: z.enum(VIDEO_MODELS).optional()
        .describe('the video card: std (VGA), virtio, qxl, vmware (SVGA II), cirrus, none (default: std with VNC, none without)'),
    }).strict().prefault({}),
    scsiController: z.enum(SCSI_CONTROLLERS).optional()
      .describe('the controller scsi disks sit behind (default virtio-scsi); lsilogic, lsisas1068, megasas and pvscsi emulate other hypervisors\' controllers'),
    os: z.object({
      type: z.enum(['linux', 'windows', 'other']),
      variant: z.string().max(128).regex(/^[\x20-\x7e]*$/, 'printable ASCII only').optional()
        .describe('free text, such as the source\'s OS id (ubuntu64Guest, Windows2019_64, debian12)'),
    }).strict().optional().describe('what the guest runs: a hint kept from imports and for exports, not used to start the VM'),
    ha: haSchema.optional(),
    cloudInit: cloudInitSchema.optional().describe('NoCloud seed (user-data, meta-data, network-config) attached as a CD-ROM at start'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.disks.forEach((d, i) => {
      if (s.cloudInit && d.name === CLOUD_INIT_DISK) ctx.addIssue({ code: 'custom', path: ['disks', i, 'name'], message: `"${CLOUD_INIT_DISK}" is the cloud-init seed's disk name` });
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: ['disks', i, 'name'], message: `duplicate disk name "${d.name}"` });
      seen.add(d.name);
    });
    const nets = new Set<string>();
    const ports: Array<{ protocol: string; hostAddress: string; hostPort: number }> = [];
    s.networks.forEach((n, i) => {
      if (nets.has(n.name)) ctx.addIssue({ code: 'custom', path: ['networks', i, 'name'], message: `duplicate network name "${n.name}"` });
      nets.add(n.name);
      n.portForwards.forEach((f, j) => {
        // 0.0.0.0 takes the port on every address: it clashes with any other forward of that port.
        const clash = ports.find((p) => p.protocol === f.protocol && p.hostPort === f.hostPort && (p.hostAddress === f.hostAddress || p.hostAddress === '0.0.0.0' || f.hostAddress === '0.0.0.0'));
        if (clash) ctx.addIssue({ code: 'custom', path: ['networks', i, 'portForwards', j, 'hostPort'], message: `host port ${f.protocol}:${f.hostAddress}:${f.hostPort} is forwarded twice${clash.hostAddress !== f.hostAddress ? ` (${clash.hostAddress}:${clash.hostPort} takes it too)` : ''}` });
        ports.push(f);
      });
    });
    // QEMU 7.2's ceilings (query-machines cpu-max): pc (i440fx) 255 vCPUs, q35 288, above the schema's 256.
    const vcpus = s.cpu.max ?? s.cpu.count;
    if (s.machine.type === 'pc' && vcpus > 255) {
      ctx.addIssue({ code: 'custom', path: ['cpu', s.cpu.max !== undefined ? 'max' : 'count'], message: `machine type pc takes at most 255 vCPUs (this spec asks ${vcpus}); use machine type q35` });
    }
    if (s.boot.kernel === undefined && s.disks.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['boot'], message: 'nothing to boot: give boot.kernel or at least one disk' });
    }
    if (s.boot.secureBoot === true && (s.boot.firmware !== 'uefi' || s.machine.type !== 'q35')) {
      ctx.addIssue({ code: 'custom', path: ['boot', 'secureBoot'], message: 'secure boot needs boot.firmware uefi and machine type q35' });
    }
    topologyProblems(s, ctx);
    if (s.cpu.model === 'host' && s.machine.accel === 'tcg') {
      ctx.addIssue({ code: 'custom', path: ['cpu', 'model'], message: 'cpu model "host" needs KVM; use "max" with tcg' });
    }
  });

/** What users write (v2: `memory` may be `{size, numa, hugepages, balloon, max}`). */
export type VmSpecInput = Omit<z.input<typeof vmSpecSchema>, 'memory'> & { memory?: z.input<typeof vmSpecSchema>['memory'] | MemoryObjectInput };
/** The normalized spec every other layer reads: all defaults applied, sizes in bytes. */
export type VmSpec = z.output<typeof vmSpecSchema>;
export type DiskSpec = VmSpec['disks'][number];
export type NetworkSpec = VmSpec['networks'][number];
export type PortForward = NetworkSpec['portForwards'][number];
export type BootSpec = VmSpec['boot'];
export type CpuSpec = VmSpec['cpu'];
