/** NICs (user-mode networking, or a tap on a virtual network), the serial console, the guest agent channel and the display. */
import type { RuntimeFiles } from '../driver.js';
import type { VmSpec } from '../../spec/index.js';
import { netIds, stableMac } from './names.js';
import { opts, optValue } from './qemu-opts.js';

/** The spec's NIC models as QEMU devices (hot-plug uses them too). */
export const NIC_MODEL: Record<VmSpec['networks'][number]['model'], string> = {
  virtio: 'virtio-net-pci', e1000: 'e1000', e1000e: 'e1000e', vmxnet3: 'vmxnet3', rtl8139: 'rtl8139',
};

/** Video models → QEMU devices (the primary, VGA-compatible variant of each). */
const VIDEO_DEVICE: Record<Exclude<NonNullable<VmSpec['display']['video']>, 'none'>, string> = {
  std: 'VGA', virtio: 'virtio-vga', qxl: 'qxl-vga', vmware: 'vmware-svga', cirrus: 'cirrus-vga',
};

export const AGENT_PORT_NAME = 'org.qemu.guest_agent.0';

export function networkArgs(
  vmId: string, spec: VmSpec, bootIndex: Map<string, number>, taps: Readonly<Record<string, string>> = {}, nicMtu: Readonly<Record<string, number>> = {},
): string[] {
  const args: string[] = [];
  for (const n of spec.networks) {
    const ids = netIds(n.name);
    if (n.type === 'network') {
      // The tap exists already (lifecycle attached it to the network's bridge); QEMU only opens it.
      const tap = taps[n.name];
      if (tap === undefined) throw new Error(`NIC ${n.name} is on network ${String(n.network)} but no tap was attached for it`);
      args.push('-netdev', opts('tap', [['id', ids.netdev], ['ifname', tap], ['script', 'no'], ['downscript', 'no']]));
    } else {
      const fwds = n.portForwards.map((f) => ['hostfwd', `${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`] as const);
      // restrict=on: slirp forwards nothing out of the guest (10.0.2.2, the host's loopback, included); hostfwd still comes in.
      args.push('-netdev', opts('user', [['id', ids.netdev], ...(n.restrict ? [['restrict', 'on'] as const] : []), ...fwds]));
    }
    const boot = bootIndex.get(`net:${n.name}`);
    args.push('-device', opts(NIC_MODEL[n.model], [
      ['netdev', ids.netdev],
      ['id', ids.device],
      ['mac', n.mac ?? stableMac(vmId, n.name)],
      // A network with smaller frames (VXLAN overlay): virtio tells the guest its MTU (VIRTIO_NET_F_MTU). Other models cannot.
      ['host_mtu', n.model === 'virtio' ? nicMtu[n.name] : undefined],
      ['bootindex', boot],
      // No PXE option ROM unless the NIC is in the boot order: faster firmware, fewer files needed.
      ['romfile', boot === undefined ? '' : undefined],
    ]));
  }
  return args;
}

/**
 * ttyS0 on a unix socket server (consoles attach to it) whose output is also
 * appended to the serial log, so readiness can be read while nobody is attached.
 */
export function serialArgs(spec: VmSpec, files: RuntimeFiles): string[] {
  if (!spec.serial.enabled) return [];
  return [
    '-chardev', opts('socket', [
      ['id', 'serial0'], ['path', files.serialSocket], ['server', true], ['wait', false],
      ['logfile', files.serialLog], ['logappend', true],
    ]),
    '-serial', 'chardev:serial0',
  ];
}

export function agentArgs(spec: VmSpec, files: RuntimeFiles): string[] {
  if (!spec.agent.enabled) return [];
  return [
    '-device', opts('virtio-serial-pci', [['id', 'virtio-serial0']]),
    '-chardev', opts('socket', [['id', 'qga0'], ['path', files.agentSocket], ['server', true], ['wait', false]]),
    '-device', opts('virtserialport', [['bus', 'virtio-serial0.0'], ['nr', 1], ['chardev', 'qga0'], ['id', 'channel0'], ['name', AGENT_PORT_NAME]]),
  ];
}

/**
 * Headless unless VNC is on: then a VNC server on a unix socket (QEMU 7.2:
 * `-vnc unix:PATH`), a video card (display.video, standard VGA by default) and
 * a USB tablet for an absolute pointer. Without VNC the guest has no video
 * card unless display.video names one.
 */
export function displayArgs(spec: VmSpec, files: RuntimeFiles): string[] {
  const video = spec.display.video ?? (spec.display.vnc ? 'std' : 'none');
  const card = video === 'none' ? [] : ['-device', opts(VIDEO_DEVICE[video], [['id', 'video0']])];
  if (!spec.display.vnc) return ['-display', 'none', ...card];
  return [
    '-vnc', `unix:${optValue(files.vncSocket)}`,
    ...card,
    '-device', opts('qemu-xhci', [['id', 'usb0']]),
    '-device', opts('usb-tablet', [['id', 'tablet0'], ['bus', 'usb0.0']]),
  ];
}
