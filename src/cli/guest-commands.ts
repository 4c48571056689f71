/** `polyvisor vm guest NAME`: what the running guest says about itself through its agent. */
import type { Command } from 'commander';
import type { GuestInfoView } from '../spec/index.js';
import { clientFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';

const orDash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));

/** The human form: agent line, OS, hostname, clock, then interfaces and filesystems as tables. */
export function guestText(g: GuestInfoView): string {
  const a = g.agent;
  const lines = [
    `agent:     ${a.responding ? `answering (version ${orDash(a.version)}, ${a.latencyMs} ms)` : `not answering: ${orDash(a.error)}`}`,
    `os:        ${g.os ? orDash(g.os.prettyName ?? [g.os.id, g.os.version].filter(Boolean).join(' ')) : '-'}${g.os?.kernelRelease ? ` (kernel ${g.os.kernelRelease}${g.os.machine ? `, ${g.os.machine}` : ''})` : ''}`,
    `hostname:  ${orDash(g.hostname)}`,
    `clock:     ${g.clockSkewMs === null ? '-' : `${g.clockSkewMs >= 0 ? '+' : ''}${g.clockSkewMs} ms from the host`}`,
  ];
  let s = lines.join('\n') + '\n';
  if (g.interfaces.length) {
    s += '\n' + table(['INTERFACE', 'MAC', 'ADDRESSES'], g.interfaces.map((i) => [i.name, orDash(i.mac), i.addresses.map((x) => `${x.address}/${x.prefix}`).join(' ') || '-']));
  }
  if (g.filesystems.length) {
    s += '\n' + table(['MOUNT', 'TYPE', 'DEVICES', 'USED', 'SIZE'], g.filesystems.map((f) => [
      f.mountpoint, f.type, f.devices.join(',') || '-', f.usedBytes === null ? '-' : formatBytes(f.usedBytes), f.totalBytes === null ? '-' : formatBytes(f.totalBytes),
    ]));
  }
  if (g.missing.length) s += `\nnot given by the agent: ${g.missing.map((m) => m.part).join(', ')}\n`;
  return s;
}

export function registerGuestCommand(vm: Command, g: () => GlobalOptions, out: (s: string) => void): void {
  vm.command('guest <name>')
    .description('what the running guest says through its agent: heartbeat and version, OS, hostname, addresses, filesystems, clock')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const info = await clientFrom(g()).guestInfo(name);
      out(o.json || g().json ? JSON.stringify(info, null, 2) + '\n' : guestText(info));
    });
}
