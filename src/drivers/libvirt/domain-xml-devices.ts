/**
 * Spec NICs, serial console, guest agent channel, display and the small
 * devices around them → libvirt elements, mirroring what the native QEMU
 * driver starts (src/drivers/qemu/argv-devices.ts). Pure.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { NetworkSpec, VmSpec } from '../../spec/index.js';
import { aliasOf } from './domain-xml-disks.js';
import { el, type XmlNode } from './domain-xml-node.js';

export const AGENT_CHANNEL = 'org.qemu.guest_agent.0';
/** Spare PCIe root ports on q35 so disks and NICs can be hot-plugged (the native driver adds the same four). */
export const HOTPLUG_PORTS = 4;

export interface DeviceXmlOptions {
  serialSocket?: string;
  serialLog?: string;
  agentSocket?: string;
  vncSocket?: string;
}

/**
 * User-mode networking. Without port forwards: libvirt's SLIRP (`type='user'`).
 * With them: the passt backend, the only user-mode backend libvirt forwards
 * ports for (`<portForward>`); Debian's libvirt 9.0 refuses it ("Invalid value
 * for attribute 'type' in element 'backend'"), so port forwards need
 * `passt: true` (a libvirt that takes it, and the passt binary), else they are
 * SPEC_INVALID.
 */
export function interfaceElements(spec: VmSpec, bootOrder: Map<string, number>, passt: boolean): XmlNode[] {
  return spec.networks.map((n, i) => {
    if (n.portForwards.length > 0 && !passt) {
      const message = 'this libvirt forwards ports only with the passt backend, which it does not take; use the local driver, or drop the port forwards';
      throw new PolyvisorError('SPEC_INVALID', `network ${n.name}: ${message}`, { details: [{ field: `networks.${i}.portForwards`, message }] });
    }
    if (n.restrict === true) {
      // Refused rather than dropped: the guest would gain the host's loopback (audit defect 9).
      const message = "libvirt's user-mode interface cannot be restricted (QEMU restrict=on); use the local driver, or a network NIC with a firewall";
      throw new PolyvisorError('SPEC_INVALID', `network ${n.name}: ${message}`, { details: [{ field: `networks.${i}.restrict`, message }] });
    }
    const order = bootOrder.get(`net:${n.name}`);
    return el('interface', { type: 'user' }, [
      n.mac !== undefined && el('mac', { address: n.mac }),
      el('model', { type: n.model }),
      n.portForwards.length > 0 && el('backend', { type: 'passt' }),
      ...portForwards(n),
      order !== undefined && el('boot', { order }),
      // No PXE option ROM unless the NIC is in the boot order (as the native driver does).
      order === undefined && el('rom', { enabled: 'no' }),
      el('alias', { name: aliasOf(n.name) }),
    ]);
  });
}

function portForwards(n: NetworkSpec): XmlNode[] {
  return n.portForwards.map((f) =>
    el('portForward', { proto: f.protocol, address: f.hostAddress }, [el('range', { start: f.hostPort, to: f.guestPort })]));
}

/** ttyS0: a unix socket libvirt's QEMU listens on (consoles attach to it), else a pty; optionally logged to a file. */
export function serialElements(spec: VmSpec, o: DeviceXmlOptions): XmlNode[] {
  if (!spec.serial.enabled) return [];
  const log = o.serialLog === undefined ? undefined : el('log', { file: o.serialLog, append: 'on' });
  const target = el('target', { type: 'isa-serial', port: 0 }, [el('model', { name: 'isa-serial' })]);
  if (o.serialSocket === undefined) return [el('serial', { type: 'pty' }, [log, target])];
  return [el('serial', { type: 'unix' }, [el('source', { mode: 'bind', path: o.serialSocket }), log, target])];
}

/** The guest agent's virtio-serial port; without a socket path libvirt picks one under its channel directory. */
export function agentElements(spec: VmSpec, o: DeviceXmlOptions): XmlNode[] {
  if (!spec.agent.enabled) return [];
  return [el('channel', { type: 'unix' }, [
    o.agentSocket !== undefined && el('source', { mode: 'bind', path: o.agentSocket }),
    el('target', { type: 'virtio', name: AGENT_CHANNEL }),
  ])];
}

/**
 * Headless unless VNC is on: then VNC on a unix socket (or 127.0.0.1 with an
 * automatic port when no socket is given, never another address), a VGA card,
 * and a USB tablet on an xHCI controller for an absolute pointer.
 */
export function displayElements(spec: VmSpec, o: DeviceXmlOptions): XmlNode[] {
  if (!spec.display.vnc) return [];
  const graphics = o.vncSocket !== undefined
    ? el('graphics', { type: 'vnc' }, [el('listen', { type: 'socket', socket: o.vncSocket })])
    : el('graphics', { type: 'vnc', port: -1, autoport: 'yes', listen: '127.0.0.1' }, [el('listen', { type: 'address', address: '127.0.0.1' })]);
  return [
    el('input', { type: 'tablet', bus: 'usb' }),
    graphics,
    el('video', {}, [el('model', { type: 'vga', vram: 16384, heads: 1, primary: 'yes' })]),
  ];
}

/**
 * USB only with VNC (the tablet). On q35: pcie-root and one root port per
 * PCIe device this XML has (libvirt fills free ports first) plus
 * HOTPLUG_PORTS spare ones, so disks and NICs can be hot-plugged as on the
 * native driver. A virtio-serial controller is implicit with the agent.
 */
export function controllerElements(spec: VmSpec, virtioDisks: number, scsi: boolean): XmlNode[] {
  const usb = el('controller', { type: 'usb', index: 0, model: spec.display.vnc ? 'qemu-xhci' : 'none' });
  if (spec.machine.type !== 'q35') return [usb];
  const devices = virtioDisks + (scsi ? 1 : 0) + spec.networks.length + (spec.agent.enabled ? 1 : 0) + (spec.display.vnc ? 1 : 0) + 1; // + balloon
  const ports = Array.from({ length: devices + HOTPLUG_PORTS }, (_, i) => el('controller', { type: 'pci', index: i + 1, model: 'pcie-root-port' }));
  return [usb, el('controller', { type: 'pci', index: 0, model: 'pcie-root' }), ...ports];
}

/** A virtio balloon, as the native driver starts (and libvirt adds by default). */
export const balloonElement = (): XmlNode => el('memballoon', { model: 'virtio' });
