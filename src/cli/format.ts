import type { InventoryVmView, VmView } from '../spec/index.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1 && (v / 1024) % 1 === 0) {
    v /= 1024;
    i++;
  }
  if (v >= 1024 && i < units.length - 1) {
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${v.toFixed(1)} ${units[i]}`;
  }
  return `${v} ${units[i]}`;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Local VMs, then (when there are any) other endpoints' VMs with their ENDPOINT column. */
export function vmTable(vms: VmView[], foreign: InventoryVmView[] = []): string {
  const headers = ['NAME', 'STATE', 'VCPUS', 'MEMORY', 'ACCEL', 'PID', 'LABELS', ...(foreign.length ? ['ENDPOINT'] : [])];
  const rows = vms.map((v) => [
    v.name,
    v.state,
    String(v.spec.cpu.count),
    formatBytes(v.spec.memory),
    v.runtime?.accel ?? '-',
    v.runtime ? String(v.runtime.pid) : '-',
    Object.entries(v.spec.labels).map(([k, val]) => `${k}=${val}`).join(',') || '-',
    ...(foreign.length ? ['local'] : []),
  ]);
  for (const r of foreign) rows.push([r.ref, r.state, String(r.cpus), formatBytes(r.memoryBytes), '-', '-', '-', r.endpoint]);
  return table(headers, rows);
}

export function vmDetails(v: VmView): string {
  const s = v.spec;
  const lines: Array<[string, string]> = [
    ['Name', v.name],
    ['ID', v.id],
    ['State', `${v.state} (${v.stateReason})`],
    ['Host', v.host],
    ['vCPUs', `${s.cpu.count} (${s.cpu.sockets}s/${s.cpu.cores}c/${s.cpu.threads}t, ${s.cpu.model})`],
    ['Memory', formatBytes(s.memory)],
    ['Machine', `${s.machine.type}, accel ${v.runtime?.accel ?? s.machine.accel}, ${s.boot.firmware}`],
    ['Boot', s.boot.kernel ? `kernel ${s.boot.kernel}` : `disk (${s.boot.order.join(', ')})`],
    ...s.disks.map((d): [string, string] => [`Disk ${d.name}`, `${d.path ?? formatBytes(d.size ?? 0)} ${d.format} ${d.bus}${d.readOnly ? ' ro' : ''}`]),
    ...s.networks.map((n): [string, string] => {
      const seen = v.nics?.find((x) => x.name === n.name);
      const mac = seen?.mac ?? n.mac;
      const addrs = seen?.addresses.length ? ` addresses ${seen.addresses.map((a) => `${a.address} (${a.source})`).join(', ')}` : '';
      return [`Net ${n.name}`, `${n.type}${n.network !== undefined ? ` ${n.network}` : ''} ${n.model}${mac !== undefined ? ` ${mac}` : ''}${n.ip !== undefined ? ` ip=${n.ip}` : ''}${seen && !seen.linkUp ? ' link down' : ''}${addrs}${n.portForwards.map((f) => ` ${f.protocol}:${f.hostAddress}:${f.hostPort}->${f.guestPort}`).join('')}`];
    }),
    ['Labels', Object.entries(s.labels).map(([k, val]) => `${k}=${val}`).join(', ') || '-'],
    ['PID', v.runtime ? String(v.runtime.pid) : '-'],
    ['Serial log', v.files.serialLog],
    ['Actions', v.actions.join(', ') || '-'],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join('\n') + '\n';
}
