/** Method C: libvirt's system daemon (started by hand when it is not running) and one domain. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { alive, run, runOk, sleep, stopPid } from './proc.js';

const URI = 'qemu:///system';
export const virsh = (...args: string[]): Promise<string> => runOk('virsh', ['-c', URI, ...args], 60_000);

export interface StartedDaemon {
  name: string;
  pid: number;
}

export interface DomainOptions {
  name: string;
  memoryMiB: number;
  vcpus: number;
  machine: string;
  /** "max" maps to libvirt's maximum CPU mode, anything else to a named model. */
  cpuModel: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  serialLog: string;
  /** Guest agent channel socket, as Polyvisor gives every VM one. */
  agentSocket: string | null;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

/** libvirt domain XML for a direct-kernel-boot TCG guest with its serial port in a file. Pure. */
export function domainXml(o: DomainOptions): string {
  const cpu = o.cpuModel === 'max'
    ? "<cpu mode='maximum' check='none'/>"
    : `<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>${esc(o.cpuModel)}</model></cpu>`;
  const agent = o.agentSocket === null ? '' : `
    <channel type='unix'><source mode='bind' path='${esc(o.agentSocket)}'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`;
  return `<domain type='qemu'>
  <name>${esc(o.name)}</name>
  <memory unit='MiB'>${o.memoryMiB}</memory>
  <vcpu>${o.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='${esc(o.machine)}'>hvm</type>
    <kernel>${esc(o.kernel)}</kernel>
    <initrd>${esc(o.initrd)}</initrd>
    <cmdline>${esc(o.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  ${cpu}
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='${esc(o.serialLog)}'/><target port='0'/></serial>${agent}
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const reachable = async (): Promise<boolean> => (await run('virsh', ['-c', URI, 'uri'], 15_000)).code === 0;

/**
 * Makes sure libvirtd (and virtlogd, which it needs for QEMU's stdout) answers on qemu:///system,
 * starting them by hand with `-d` (no systemd here). Returns the daemons it started.
 */
export async function ensureLibvirt(): Promise<StartedDaemon[]> {
  if (await reachable()) return [];
  const started: StartedDaemon[] = [];
  mkdirSync('/var/log/libvirt', { recursive: true });
  if (pidFrom('/run/virtlogd.pid') === null) {
    await runOk('virtlogd', ['-d']);
    await waitFor('virtlogd', () => existsSync('/run/libvirt/virtlogd-sock') && pidFrom('/run/virtlogd.pid') !== null);
    started.push({ name: 'virtlogd', pid: pidFrom('/run/virtlogd.pid')! });
  }
  await runOk('libvirtd', ['-d']);
  await waitFor('libvirtd', reachable);
  const pid = pidFrom('/run/libvirtd.pid');
  if (pid === null) throw new Error('libvirtd answers but /run/libvirtd.pid names no live process');
  started.push({ name: 'libvirtd', pid });
  return started;
}

/** Stops, by PID and in reverse order, the daemons `ensureLibvirt` started. */
export async function stopLibvirt(started: StartedDaemon[]): Promise<void> {
  for (const d of [...started].reverse()) await stopPid(d.pid, 'SIGTERM', 15_000);
}

/** What /etc/libvirt/qemu.conf says about the user QEMU runs as (null: libvirt's default, libvirt-qemu). */
export function qemuConfUser(): string | null {
  try {
    const m = /^\s*user\s*=\s*"([^"]*)"/m.exec(readFileSync('/etc/libvirt/qemu.conf', 'utf8'));
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Defines the domain from XML (replacing a leftover definition of the same name). */
export async function defineDomain(xml: string, xmlFile: string, name: string): Promise<void> {
  await undefineDomain(name);
  writeFileSync(xmlFile, xml);
  await virsh('define', xmlFile);
}

/** Destroys (if running) and undefines a domain; quiet when it does not exist. */
export async function undefineDomain(name: string): Promise<void> {
  await run('virsh', ['-c', URI, 'destroy', name], 60_000);
  await run('virsh', ['-c', URI, 'undefine', name], 60_000);
}

/** PID of a running domain's QEMU, from libvirt's pidfile. */
export function domainPid(name: string): number | null {
  return pidFrom(`/run/libvirt/qemu/${name}.pid`);
}
